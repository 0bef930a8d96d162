//! The floor under `app_idle_rss_mb`: a bare WebKitGTK window with the register's WebKit settings
//! and environment (software rendering, document-viewer caches) showing one line of HTML, with no
//! Tauri, no store and none of the register's page. `cargo xtask bench app` starts it like the app and measures
//! it the same way, so the benchmark shows how much of the app's memory is WebKitGTK's own.

#[cfg(target_os = "linux")]
fn main() {
    use gtk::prelude::*;
    use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, LoadEvent, SettingsExt, WebContextExt, WebViewExt};

    // The same environment as the app: software rendering, no OpenGL set-up in this process.
    pos_register::software_rendering();
    gtk::init().expect("GTK needs a display (set DISPLAY)");
    let window = gtk::Window::new(gtk::WindowType::Toplevel);
    window.set_default_size(1280, 800);
    let view = webkit2gtk::WebView::new();
    if let Some(settings) = WebViewExt::settings(&view) {
        settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        settings.set_enable_page_cache(false);
    }
    if let Some(ctx) = view.context() {
        ctx.set_cache_model(CacheModel::DocumentViewer);
    }
    view.connect_load_changed(|_, event| {
        if event == LoadEvent::Finished {
            println!("ready_ms 0");
        }
    });
    view.load_html("<!doctype html><html><body><p>ready</p></body></html>", None);
    window.add(&view);
    window.connect_destroy(|_| gtk::main_quit());
    window.show_all();
    gtk::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("bare-webview measures WebKitGTK, which only the Linux build uses");
}
