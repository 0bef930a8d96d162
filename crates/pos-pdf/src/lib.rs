//! PDF documents (placeholder until written).
