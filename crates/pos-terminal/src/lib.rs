//! Payment terminals (placeholder until written).
