//! A synthetic SQL dump shared by the verify tests and benchmark.

/// About `len` bytes of a SQL dump: compressible, not trivially repetitive.
pub fn sql_dump(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 128);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut id = 0u64;
    while out.len() < len {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        id += 1;
        let line = format!(
            "INSERT INTO orders VALUES ({id}, {}, 'customer-{:05}', {}.{:02}, '{}');\n",
            state >> 47,
            (state >> 20) % 50_000,
            (state >> 8) % 1000,
            state % 100,
            if state.is_multiple_of(10) { "pending" } else { "shipped" },
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}
