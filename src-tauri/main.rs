//! The desktop app's entry point: all it does is call the library, so the app stays testable.
fn main() -> std::process::ExitCode {
    pos_register::run()
}
