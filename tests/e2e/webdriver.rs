//! A small W3C WebDriver client: just what the end-to-end tests need to drive the real window
//! through `tauri-driver` (which starts WebKitWebDriver and the app).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    base: String,
    agent: ureq::Agent,
}

#[derive(Debug, Clone)]
pub struct Element(String);

impl Session {
    /// Starts the app at `application` through the driver listening on `port`.
    pub fn start(port: u16, application: &str) -> Session {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(120))).build().into();
        let caps = json!({
            "capabilities": {
                "alwaysMatch": { "browserName": "wry", "tauri:options": { "application": application } }
            }
        });
        let url = format!("http://127.0.0.1:{port}/session");
        let started = Instant::now();
        let resp = loop {
            match agent.post(&url).send_json(&caps) {
                Ok(mut r) => break r.body_mut().read_json::<Value>().expect("session answer is JSON"),
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => panic!("no WebDriver session: {e}"),
            }
        };
        let id = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session id in {resp}")).to_owned();
        Session { base: format!("http://127.0.0.1:{port}/session/{id}"), agent }
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        let r = self
            .agent
            .post(format!("{}{path}", self.base))
            .config()
            .http_status_as_error(false)
            .build()
            .send_json(&body);
        Self::answer(r)
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        let r = self.agent.get(format!("{}{path}", self.base)).config().http_status_as_error(false).build().call();
        Self::answer(r)
    }

    fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Value, String> {
        let mut r = r.map_err(|e| e.to_string())?;
        let ok = r.status().is_success();
        let v: Value = r.body_mut().read_json().map_err(|e| e.to_string())?;
        if ok { Ok(v["value"].clone()) } else { Err(v["value"].to_string()) }
    }

    /// The element with `data-testid` = `id`, waiting up to 10 s for it to appear.
    pub fn find(&self, id: &str) -> Element {
        self.find_css(&format!("[data-testid=\"{id}\"]"))
    }

    pub fn find_css(&self, css: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.post("/element", json!({"using": "css selector", "value": css})) {
                Ok(v) => return Element(v[ELEMENT].as_str().expect("element reference").to_owned()),
                Err(e) if Instant::now() > deadline => self.failed(&format!("no element {css}: {e}")),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// How many elements match `css` now (no waiting).
    pub fn count(&self, css: &str) -> usize {
        self.post("/elements", json!({"using": "css selector", "value": css}))
            .map(|v| v.as_array().map_or(0, Vec::len))
            .unwrap_or(0)
    }

    pub fn exists(&self, id: &str) -> bool {
        self.count(&format!("[data-testid=\"{id}\"]")) > 0
    }

    pub fn click(&self, id: &str) {
        let el = self.find(id);
        self.click_el(&el, id);
    }

    pub fn click_el(&self, el: &Element, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.post(&format!("/element/{}/click", el.0), json!({})) {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => panic!("cannot click {what}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    pub fn text(&self, id: &str) -> String {
        let el = self.find(id);
        self.get(&format!("/element/{}/text", el.0)).expect("element text").as_str().unwrap_or("").to_owned()
    }

    /// Waits until the element's text contains `want`, and returns the text.
    pub fn wait_text(&self, id: &str, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let t = if self.exists(id) { self.text(id) } else { String::new() };
            if t.contains(want) {
                return t;
            }
            if Instant::now() > deadline {
                self.failed(&format!("{id}: waited for {want:?}, it says {t:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until no element has `data-testid` = `id`.
    pub fn wait_gone(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.exists(id) {
            if Instant::now() > deadline {
                self.failed(&format!("{id} is still there"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types into an element (real key events, as fast as the driver sends them).
    pub fn type_into(&self, id: &str, text: &str) {
        let el = self.find(id);
        self.post(&format!("/element/{}/value", el.0), json!({"text": text})).expect("typing");
    }

    /// Presses keys on whatever has the focus, one W3C key action each, with no pause between
    /// them — the way a barcode scanner types.
    pub fn keys(&self, text: &str) {
        let mut actions = Vec::new();
        for c in text.chars() {
            let k = if c == '\n' { "\u{E007}".to_owned() } else { c.to_string() };
            actions.push(json!({"type": "keyDown", "value": k}));
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        self.post("/actions", json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}))
            .expect("key actions");
        let _ = self.agent.delete(format!("{}/actions", self.base)).call();
    }

    /// Runs `script` in the page; it receives `args` and calls `arguments[arguments.length - 1]`
    /// with its result.
    pub fn run_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", json!({"script": script, "args": args})).expect("script runs")
    }

    /// Calls a command through the page's own IPC, exactly as the UI would, and returns
    /// `{"ok": value}` or `{"err": {code, message}}`.
    pub fn invoke(&self, command: &str, args: Value) -> Value {
        self.run_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
               .then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ err: e }));",
            json!([command, args]),
        )
    }

    /// Saves a PNG of the window.
    pub fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let v = self.get("/screenshot").expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")).expect("base64 PNG");
        std::fs::write(path, png).expect("screenshot saved");
    }

    /// Saves what the window shows, then fails the test with `why`.
    pub fn failed(&self, why: &str) -> ! {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots/failure.png");
        let _ = std::fs::create_dir_all(path.parent().unwrap());
        if let Ok(v) = self.get("/screenshot") {
            use base64::Engine;
            if let Ok(png) = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")) {
                let _ = std::fs::write(&path, png);
            }
        }
        panic!("{why} (the window at that moment: {})", path.display());
    }

    pub fn close(&self) {
        let _ = self.agent.delete(&self.base).call();
    }
}
