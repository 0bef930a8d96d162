//! The desktop app's entry point: all it does is call the library, so the app stays testable.
fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    software_rendering();
    pos_register::run()
}

/// The register draws forms and lists, so WebKitGTK renders in software, without accelerated
/// compositing: its web process stays about 80 MB smaller. WebKit reads this variable when it
/// starts, so setting it here is race-free; the same policy set on the window's settings
/// (`lean_webview` in lib.rs) can arrive after the first page has already entered compositing
/// mode. The end-to-end tests keep compositing (`POS_WEBVIEW_COMPOSITING=on-demand`), and a
/// value the user set is left alone.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn software_rendering() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    let on_demand = std::env::var_os("POS_WEBVIEW_COMPOSITING").is_some_and(|v| v == "on-demand");
    if on_demand || std::env::var_os(VAR).is_some() {
        return;
    }
    // SAFETY: this is the first thing `main` does: no other thread exists yet that could read or
    // write the environment at the same time.
    unsafe { std::env::set_var(VAR, "1") };
}
