//! The desktop register's shell: a Tauri window over the façade. It opens the store once, keeps
//! the signed-in session on the Rust side, runs the print worker, and exposes the window's
//! commands (`commands.rs`). It holds no rules of its own: every check is in `pos-app`.

mod commands;
mod files;
mod state;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use pos_app::{AppError, AppResult, OsCredentialStore, Register, SystemClock};
use tauri::{Manager, WindowEvent};

use crate::state::AppState;

static STARTED: OnceLock<Instant> = OnceLock::new();
static READY: OnceLock<u128> = OnceLock::new();

/// Called when the page has drawn its first screen with the staff loaded: prints
/// `ready_ms <n>` (time since the process started) once, for the start-up benchmark.
pub(crate) fn report_ready() {
    let ms = STARTED.get().map_or(0, |t| t.elapsed().as_millis());
    if READY.set(ms).is_ok() {
        println!("ready_ms {ms}");
    }
}

/// Runs the app on the data directory given by `--data-dir DIR`, `POS_DATA_DIR`, or the user's
/// data directory.
pub fn run() -> ExitCode {
    STARTED.get_or_init(Instant::now);
    let dir = data_dir();
    let opened = open(&dir);
    if let Err(e) = &opened {
        // The window still opens and says what is wrong and how to fix it.
        eprintln!("error[{}]: {}", e.code.as_str(), e.message);
    }
    let state = AppState::new(opened, dir);
    let shared = state.shared().ok();
    let wake = state.wake.clone();
    let result = tauri::Builder::default()
        .manage(state)
        .setup(move |app| {
            #[cfg(target_os = "linux")]
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.with_webview(|wv| lean_webview(&wv.inner()));
            }
            if let Some(counter) = shared {
                worker::resolve_card_payments(counter.clone());
                worker::spawn_print_worker(counter.clone(), wake);
                // Kept by the app for its lifetime; dropping it stops the thread.
                if let Some(sync) = worker::spawn_sync_worker(counter) {
                    app.manage(sync);
                }
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let state = window.state::<AppState>();
                if !state.quit_confirmed.load(Ordering::SeqCst) && unsynced(&state) > 0 {
                    // The page shows the count and asks; `quit` closes for real.
                    api.prevent_close();
                    if let Some(w) = window.app_handle().get_webview_window("main") {
                        let _ = w.eval("window.__posConfirmQuit && window.__posConfirmQuit()");
                    }
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::ui_ready,
            commands::sign_in,
            commands::sign_out,
            commands::lock_session,
            commands::unlock_session,
            commands::session,
            commands::elevate,
            commands::status,
            commands::categories,
            commands::products,
            commands::search,
            commands::import_catalog,
            commands::open_order,
            commands::order,
            commands::add_item,
            commands::set_quantity,
            commands::remove_line,
            commands::set_line_discount,
            commands::set_order_discount,
            commands::override_price,
            commands::void_open_order,
            commands::payment_preview,
            commands::pay_card,
            commands::complete_sale,
            commands::print_receipt,
            commands::orders,
            commands::order_detail,
            commands::refund,
            commands::void_order,
            commands::approve,
            commands::deny,
            commands::cancel_approval,
            commands::open_shift,
            commands::cash_movement,
            commands::no_sale,
            commands::denominations,
            commands::x_report,
            commands::close_shift,
            commands::z_report,
            commands::staff_admin,
            commands::add_staff,
            commands::set_staff_role,
            commands::reset_pin,
            commands::set_staff_active,
            commands::unlock_staff,
            commands::begin_totp_enrolment,
            commands::confirm_totp_enrolment,
            commands::security_policy,
            commands::set_security_policy,
            commands::terminal_config,
            commands::set_terminal,
            commands::printers,
            commands::add_printer,
            commands::remove_printer,
            commands::print_test_page,
            commands::printer_status,
            commands::daily_summary,
            commands::item_mix,
            commands::payments_report,
            commands::tax_export,
            commands::export_report,
            commands::shift_report_pdf,
            commands::print_shift_report,
            commands::verify_audit,
            commands::sync_overview,
            commands::retry_quarantined,
            commands::sync_now,
            commands::export_audit,
            commands::quit,
        ])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the window could not start: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The register draws forms and lists, not video or 3-D: software rendering and minimal caches
/// keep the web process small (about 80 MB less resident than with compositing). `main` already
/// turns compositing off through WebKit's environment before anything starts; this sets the same
/// policy on the window, with the caches. The end-to-end tests set
/// `POS_WEBVIEW_COMPOSITING=on-demand`, because WebKitWebDriver's screenshots hang without
/// compositing; nothing else changes for them.
#[cfg(target_os = "linux")]
fn lean_webview(view: &webkit2gtk::WebView) {
    use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};
    if let Some(settings) = WebViewExt::settings(view) {
        let policy = if std::env::var_os("POS_WEBVIEW_COMPOSITING").is_some_and(|v| v == "on-demand") {
            HardwareAccelerationPolicy::OnDemand
        } else {
            HardwareAccelerationPolicy::Never
        };
        settings.set_hardware_acceleration_policy(policy);
        settings.set_enable_page_cache(false);
    }
    if let Some(ctx) = view.context() {
        ctx.set_cache_model(CacheModel::DocumentViewer);
    }
}

fn unsynced(state: &AppState) -> i64 {
    state.lock().ok().and_then(|c| c.reg.outbox_status().ok()).map_or(0, |o| o.depth)
}

fn open(dir: &std::path::Path) -> AppResult<Register> {
    let secrets = OsCredentialStore::connect().map_err(AppError::from)?;
    Register::open(dir, &secrets, Arc::new(SystemClock))
}

fn data_dir() -> PathBuf {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--data-dir"
            && let Some(d) = args.next()
        {
            return PathBuf::from(d);
        }
    }
    if let Some(d) = std::env::var_os("POS_DATA_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    base.unwrap_or_else(|| PathBuf::from(".")).join("lindenblatt-pos")
}

/// The register draws forms and lists, so WebKitGTK renders in software, without accelerated
/// compositing: its web process stays about 80 MB smaller. WebKit reads these variables when it
/// starts, so setting them first thing in `main`, before any other thread exists, is race-free
/// (the app and the `bare-webview` example do); the same policy set on the window's settings
/// (`lean_webview`) can arrive after the first page has already entered compositing mode.
///
/// Without compositing, neither GTK nor WebKit's part in this process needs OpenGL, so they are
/// told not to set it up: otherwise each loads the Mesa driver (libLLVM with it, about 20 MB
/// resident) only to pick a visual and find the GPU. The web process still opens its own EGL
/// display. The end-to-end tests keep compositing (`POS_WEBVIEW_COMPOSITING=on-demand`), and a
/// value the user set is left alone.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn software_rendering() {
    if std::env::var_os("POS_WEBVIEW_COMPOSITING").is_some_and(|v| v == "on-demand") {
        return;
    }
    let settings = [
        ("WEBKIT_DISABLE_COMPOSITING_MODE", "1".to_owned()),
        // GTK: no GL context for the window (the register has no GL widget).
        ("GDK_GL", "disable".to_owned()),
        // WebKit: frames come in shared memory, not as DMA-BUFs (those need compositing anyway).
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1".to_owned()),
        // WebKit: the GPU's render node, named here so this process need not ask EGL for it.
        ("WEBKIT_WEB_RENDER_DEVICE_FILE", render_node()),
    ];
    for (name, value) in settings {
        if std::env::var_os(name).is_none() {
            // SAFETY: called first thing in `main`: no other thread exists yet that could read or
            // write the environment at the same time.
            unsafe { std::env::set_var(name, value) };
        }
    }
}

/// The first DRM render node (`/dev/dri/renderD128` on a machine with one GPU). Without one, a
/// path that names no device: WebKit then finds none, which is what its own probe concludes when
/// Mesa renders in software.
#[cfg(target_os = "linux")]
fn render_node() -> String {
    let mut nodes: Vec<String> = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|p| p.starts_with("/dev/dri/renderD"))
        .collect();
    nodes.sort();
    nodes.into_iter().next().unwrap_or_else(|| "/dev/dri/none".to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn read(path: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
    }

    /// The commands the window may call are listed once for the build's app manifest
    /// (`commands.txt`); the handler, the capability and the page's API must name the same set,
    /// so a command cannot be registered without being allowed, or called without existing.
    #[test]
    fn command_lists_agree() {
        let listed: BTreeSet<String> = read("src-tauri/commands.txt").lines().map(str::to_owned).collect();
        let handler: BTreeSet<String> = read("src-tauri/lib.rs")
            .lines()
            .filter_map(|l| l.trim().strip_prefix("commands::")?.strip_suffix(',').map(str::to_owned))
            .collect();
        assert_eq!(listed, handler, "commands.txt and generate_handler! differ");

        let conf: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
        let caps = conf["app"]["security"]["capabilities"].as_array().unwrap();
        assert_eq!(caps.len(), 1, "one capability, for the register window");
        let allowed: BTreeSet<String> = caps[0]["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().strip_prefix("allow-").expect("only allow- permissions").replace('-', "_"))
            .collect();
        assert_eq!(allowed, listed, "the capability allows exactly the app's commands, and no plugin");

        let api = read("ui/src/lib/api.ts");
        let called: BTreeSet<String> = api
            .split("call<")
            .skip(1)
            .filter_map(|rest| rest.split_once(">('")?.1.split_once('\'').map(|(name, _)| name.to_owned()))
            .collect();
        let missing: Vec<_> = called.difference(&listed).collect();
        assert!(missing.is_empty(), "the page calls commands that do not exist: {missing:?}");
        let unused: Vec<_> = listed.difference(&called).collect();
        assert!(unused.is_empty(), "commands the page never calls (remove them or add them to api.ts): {unused:?}");
    }

    #[test]
    fn the_window_gets_a_strict_content_security_policy() {
        let conf: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
        let csp = conf["app"]["security"]["csp"].as_str().unwrap();
        for must in ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"] {
            assert!(csp.contains(must), "CSP lacks {must}: {csp}");
        }
        for never in ["unsafe-eval", "unsafe-inline", "http:", "https:", "*"] {
            let allowed_ipc = csp.replace("http://ipc.localhost", "");
            assert!(!allowed_ipc.contains(never), "CSP allows {never}: {csp}");
        }
    }
}
