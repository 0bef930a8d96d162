//! The desktop app's entry point: all it does is call the library, so the app stays testable.
fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    pos_register::software_rendering();
    pos_register::run()
}
