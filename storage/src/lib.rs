//! The chain and its state on disk. (Issue 3: not built yet.)
