//! Tauri's build step. The app manifest lists the app's own commands, so a window may call one only
//! when its capability names it (`tauri.conf.json`): nothing is allowed by default.
fn main() {
    let commands: Vec<&'static str> =
        include_str!("commands.txt").lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    // The manifest wants the list for the whole build; a build script ends right after.
    let commands: &'static [&'static str] = Box::leak(commands.into_boxed_slice());
    println!("cargo:rerun-if-changed=src-tauri/commands.txt");
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri-build");
}
