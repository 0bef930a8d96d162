//! Receipts on the attached hardware. A [`doc::ReceiptDoc`] (what a receipt says, already formatted
//! by the façade) is laid out for a paper width, encoded to ESC/POS bytes in the printer's code
//! page, and sent over a transport (USB line printer, serial, raw TCP 9100, CUPS). A decoder turns
//! captured bytes back into text, code pages, QR payloads, cuts and drawer pulses for the tests.
//! X and Z shift reports (`pos_core::report::ShiftReport`) are laid out the same way.

pub mod codepage;
mod codepage_tables;
pub mod decode;
pub mod doc;
pub mod escpos;
pub mod layout;
pub mod status;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod transport;

pub use codepage::CodePage;
pub use layout::{Block, Profile};
