//! Integration tests of the terminals: the simulator, the stand-alone (keyed) mode, and ZVT
//! against a fake terminal speaking the terminal's side of the protocol over TCP.

mod fake_zvt;
mod simulator;
mod standalone;
mod zvt;
