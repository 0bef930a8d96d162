//! Prints the sample receipt as text for a width and code page: `cargo run -p pos-print --example
//! sample-receipt -- 42 pc858`.
use pos_print::{CodePage, Profile, doc::sample_receipt, layout};

fn main() {
    let mut args = std::env::args().skip(1);
    let columns = args.next().and_then(|c| c.parse().ok()).unwrap_or(42);
    let page = args.next().and_then(|p| CodePage::parse(&p)).unwrap_or(CodePage::Pc858);
    let profile = Profile::new(columns, page).expect("32, 42 or 48 columns");
    print!("{}", layout::render_text(&layout::receipt(&sample_receipt(), profile), profile));
}
