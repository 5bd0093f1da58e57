//! An 8-bit matrix product for the encoder's second convolution, with AVX-512 VNNI
//! (`vpdpbusd`: 64 multiply-adds of u8 × i8 into i32 per instruction, against 16 for f32 FMA).
//!
//! Weights are quantised once at load, symmetrically per output column (`w ≈ sw[c] · wq`,
//! `wq ∈ [−127, 127]`); activations per row at run time (`a ≈ sa[r] · (aq − 128)`,
//! `aq ∈ [1, 255]`, the +128 shift because the instruction wants unsigned activations; it is
//! undone with the weights' column sums). Products accumulate exactly in i32 (at most
//! 255 · 127 · 4 per step, 256 steps per block), so the only error is rounding the two inputs.
//! Measured effect on the final sentence vectors: see `tests/model.rs`
//! (`int8_embeddings_stay_close_to_the_reference`).
//!
//! Used only where the CPU has `avx512f`, `avx512bw` and `avx512vnni` (checked at run time);
//! elsewhere the encoder keeps its exact f32 path.

/// Output columns per packed block (four 16-lane registers).
const NB: usize = 64;
/// Rows per kernel call.
const MR: usize = 6;

/// True when this CPU can run the 8-bit kernel.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A `k × n` weight matrix quantised per column and packed for the kernel.
#[derive(Debug)]
pub(crate) struct QMatrix {
    k: usize,
    n: usize,
    /// Per block of 64 columns: for every 4 rows, 64 columns × 4 bytes.
    packed: Vec<i8>,
    /// Column scales.
    scale: Vec<f32>,
    /// `128 · Σ_k wq[k, c]`, to undo the activations' shift.
    shift: Vec<f32>,
}

impl QMatrix {
    /// Quantises a dense row-major `k × n` matrix (`k % 4 == 0`, `n % 64 == 0`).
    pub(crate) fn new(w: &[f32], k: usize, n: usize) -> QMatrix {
        assert!(k.is_multiple_of(4) && n.is_multiple_of(NB) && w.len() == k * n, "QMatrix: unsupported shape");
        let mut scale = vec![0f32; n];
        for row in w.chunks_exact(n) {
            for (s, &v) in scale.iter_mut().zip(row) {
                *s = s.max(v.abs());
            }
        }
        for s in &mut scale {
            *s = if *s > 0.0 { *s / 127.0 } else { 1.0 };
        }
        let q = |r: usize, c: usize| (w[r * n + c] / scale[c]).round().clamp(-127.0, 127.0) as i8;
        let mut packed = vec![0i8; k * n];
        let mut shift = vec![0f32; n];
        for cb in 0..n / NB {
            let base = cb * k * NB;
            for kk in 0..k / 4 {
                for col in 0..NB {
                    for t in 0..4 {
                        let v = q(kk * 4 + t, cb * NB + col);
                        packed[base + kk * 4 * NB + col * 4 + t] = v;
                        shift[cb * NB + col] += 128.0 * v as f32;
                    }
                }
            }
        }
        QMatrix { k, n, packed, scale, shift }
    }

    /// Output width.
    pub(crate) fn cols(&self) -> usize {
        self.n
    }
}

/// Quantises the rows of `a` (`m × k`, dense) to shifted u8 with one scale per row.
pub(crate) fn quantize_rows(a: &[f32], k: usize, aq: &mut Vec<u8>, sa: &mut Vec<f32>) {
    aq.clear();
    sa.clear();
    for row in a.chunks_exact(k) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let s = if max > 0.0 { max / 127.0 } else { 1.0 };
        let inv = 1.0 / s;
        sa.push(s);
        // Shifted into [1.5, 255.5] before truncating: rounds to nearest without a libm call.
        aq.extend(row.iter().map(|&v| ((v * inv).clamp(-127.0, 127.0) + 128.5) as u8));
    }
}

/// `c (m × n, row stride ldc) = dequantised (aq · w)`, overwriting `c`. `aq` is `m × k` from
/// [`quantize_rows`]. Panics if [`available`] is false or shapes disagree (callers check).
pub(crate) fn gemm(m: usize, aq: &[u8], sa: &[f32], w: &QMatrix, c: &mut [f32], ldc: usize) {
    assert!(available(), "int8 gemm without avx512vnni");
    assert!(aq.len() >= m * w.k && sa.len() >= m, "int8 gemm: a too small");
    assert!(ldc >= w.n && (m == 0 || c.len() >= (m - 1) * ldc + w.n), "int8 gemm: c too small");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU features were checked above, and the asserts bound every access: rows
    // `< m` of `aq` (k bytes each) and of `c` (n floats at stride ldc), and whole packed blocks.
    unsafe {
        x86::gemm(m, aq, sa, w, c, ldc)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{MR, NB, QMatrix};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn gemm(m: usize, aq: &[u8], sa: &[f32], w: &QMatrix, c: &mut [f32], ldc: usize) {
        let k = w.k;
        for cb in 0..w.n / NB {
            let bp = unsafe { w.packed.as_ptr().add(cb * k * NB) };
            let col = cb * NB;
            let mut r = 0;
            while r < m {
                let rows = (m - r).min(MR);
                let a = unsafe { aq.as_ptr().add(r * k) };
                let cp = unsafe { c.as_mut_ptr().add(r * ldc + col) };
                let s = &sa[r..r + rows];
                unsafe {
                    match rows {
                        6 => block::<6>(a, k, bp, s, w, col, cp, ldc),
                        5 => block::<5>(a, k, bp, s, w, col, cp, ldc),
                        4 => block::<4>(a, k, bp, s, w, col, cp, ldc),
                        3 => block::<3>(a, k, bp, s, w, col, cp, ldc),
                        2 => block::<2>(a, k, bp, s, w, col, cp, ldc),
                        _ => block::<1>(a, k, bp, s, w, col, cp, ldc),
                    }
                }
                r += rows;
            }
        }
    }

    /// `R` rows × 64 columns: accumulate over k in i32, then dequantise and store.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<const R: usize>(
        a: *const u8,
        k: usize,
        bp: *const i8,
        sa: &[f32],
        w: &QMatrix,
        col: usize,
        c: *mut f32,
        ldc: usize,
    ) {
        let mut acc = [[_mm512_setzero_si512(); 4]; R];
        for kk in 0..k / 4 {
            let b = unsafe { bp.add(kk * 4 * NB) };
            let b0 = unsafe { _mm512_loadu_si512(b as *const __m512i) };
            let b1 = unsafe { _mm512_loadu_si512(b.add(64) as *const __m512i) };
            let b2 = unsafe { _mm512_loadu_si512(b.add(128) as *const __m512i) };
            let b3 = unsafe { _mm512_loadu_si512(b.add(192) as *const __m512i) };
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_epi32(unsafe { (a.add(r * k + kk * 4) as *const i32).read_unaligned() });
                acc[0] = _mm512_dpbusd_epi32(acc[0], av, b0);
                acc[1] = _mm512_dpbusd_epi32(acc[1], av, b1);
                acc[2] = _mm512_dpbusd_epi32(acc[2], av, b2);
                acc[3] = _mm512_dpbusd_epi32(acc[3], av, b3);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let s = _mm512_set1_ps(sa[r]);
            for (j, &v) in acc.iter().enumerate() {
                let sw = unsafe { _mm512_loadu_ps(w.scale.as_ptr().add(col + j * 16)) };
                let sh = unsafe { _mm512_loadu_ps(w.shift.as_ptr().add(col + j * 16)) };
                let x = _mm512_mul_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(v), sh), _mm512_mul_ps(sw, s));
                unsafe { _mm512_storeu_ps(c.add(r * ldc + j * 16), x) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_product_is_close_to_f32() {
        if !available() {
            eprintln!("SKIPPED: no avx512vnni on this CPU (the f32 path is used instead)");
            return;
        }
        let (m, k, n) = (13, 256, 128);
        let mut seed = 12345u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let a: Vec<f32> = (0..m * k).map(|_| rnd()).collect();
        let w: Vec<f32> = (0..k * n).map(|_| rnd()).collect();
        let q = QMatrix::new(&w, k, n);
        let (mut aq, mut sa) = (Vec::new(), Vec::new());
        quantize_rows(&a, k, &mut aq, &mut sa);
        let mut c = vec![0f32; m * n];
        gemm(m, &aq, &sa, &q, &mut c, n);
        let mut worst = 0f32;
        for i in 0..m {
            for j in 0..n {
                let exact: f32 = (0..k).map(|t| a[i * k + t] * w[t * n + j]).sum();
                worst = worst.max((exact - c[i * n + j]).abs());
            }
        }
        // Entries are sums of 256 products of ±0.5 values (typical size ≈ 2).
        assert!(worst < 0.05, "worst abs error {worst}");
    }
}
