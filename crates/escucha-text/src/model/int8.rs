//! 8-bit matrix products for the encoder's projection and convolutions: u8 activations × i8
//! weights, summed exactly in i32, with one kernel per instruction set.
//!
//! Weights are quantised once at load, symmetrically per output column (`w ≈ sw[c] · wq`,
//! `wq ∈ [−127, 127]`, the same values for every kernel); activations per row at run time, in
//! the form the kernel wants:
//!
//! - [`Int8Kernel::Vnni`] (AVX-512 VNNI, `vpdpbusd`: 64 u8 × i8 multiply-adds per instruction):
//!   `a ≈ sa[r] · (aq − 128)`, `aq ∈ [1, 255]` (8 bits; the +128 shift because the instruction
//!   wants unsigned activations, undone with the weights' column sums).
//! - [`Int8Kernel::Avx2`] (AVX2, `vpmaddubsw` then `vpmaddwd` with ones: 32 multiply-adds per
//!   pair of instructions): `a ≈ sa[r] · (aq − 64)`, `aq ∈ [1, 127]` — 7 bits, because
//!   `vpmaddubsw` adds two u8 × i8 products into a *saturating* i16, and only with `aq ≤ 127` is
//!   a pair sum (at most 2 · 127 · 127 = 32,258) sure to fit. The price is twice the activation
//!   rounding step of the VNNI kernel (±63 levels instead of ±127, so the activations' rounding
//!   error, up to half a step, doubles): against the numpy reference min cosine 0.99941 and max
//!   abs difference 9.8e-3 on the 16 test texts (VNNI: 0.99976, 8.2e-3); see
//!   `bench/text/MODEL.md` ("AVX2 kernel"). ≈ 2× the f32 FMA rate per core in the kernel itself
//!   (85–95 against ≈ 48 G multiply-adds per CPU-second here; VNNI 133–170), ≈ 1.5× for whole
//!   embeddings.
//!
//!   Measured and dropped: i16 activations (15 bits, no saturation question) × the same weights
//!   held as i16, with `vpmaddwd` alone. More accurate than either (min cosine 0.99991 against
//!   the exact pass over 6,000 texts, where this kernel gives 0.99945) but ≈ 20 % slower end to
//!   end (≈ 1,600 against ≈ 2,000 texts per CPU-second; 71 against 85–95 G multiply-adds): it
//!   needs a multiply and an add per 16 products where `vpmaddubsw` + `vpmaddwd` + add do 32,
//!   twice the broadcasts, and twice the weight bytes.
//!
//! Products accumulate exactly in i32 (at most 512 · 255 · 127 per output, under 2^24, so the
//! conversion to f32 for dequantising is exact too), so the only error is rounding the two
//! inputs. Measured effect on the final sentence vectors: see `tests/model.rs`
//! (`int8_embeddings_stay_close_to_the_reference`, `avx2_int8_embeddings_stay_close_to_the_reference`).
//!
//! Dispatch is at run time ([`Int8Kernel::best`]): VNNI where the CPU has `avx512f`,
//! `avx512bw` and `avx512vnni`, else AVX2 where it has `avx2` and `fma`, else none (the encoder
//! keeps its exact f32 path). A [`QMatrix`] is packed for one kernel; [`quantize_rows`] and
//! [`gemm`] follow the matrix's kernel.

/// Output columns per packed block of the VNNI kernel (four 16-lane registers).
const NB_VNNI: usize = 64;
/// 8-lane registers of accumulators per row in the AVX2 kernel.
const VA: usize = 2;
/// Output columns per packed block of the AVX2 kernel.
const NB_AVX2: usize = 8 * VA;
/// Rows per VNNI kernel call.
const MR_VNNI: usize = 6;
/// Rows per AVX2 kernel call (8 accumulators of 16 registers).
const MR_AVX2: usize = 4;

/// Which instructions the encoder's 8-bit matrix products use (weights quantised per column at
/// load, activations per row at run time, exact i32 sums; figures in `bench/text/MODEL.md`).
/// Chosen at run time by [`Int8Kernel::best`];
/// [`Encoder::with_int8_kernel`](crate::model::Encoder::with_int8_kernel) forces one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Int8Kernel {
    /// AVX-512 VNNI (`vpdpbusd`), 8-bit activations: the fastest and most accurate (≈ 2.1× the
    /// f32 pass's texts per CPU-second, min cosine 0.9997 against it).
    Vnni,
    /// AVX2 (`vpmaddubsw` + `vpmaddwd`), 7-bit activations so the i16 pair sums never saturate:
    /// for CPUs without AVX-512 VNNI (most laptops, older servers); ≈ 1.5× the f32 pass's texts
    /// per CPU-second, min cosine 0.999 against it.
    Avx2,
}

impl Int8Kernel {
    /// Every kernel, fastest first.
    pub const ALL: [Int8Kernel; 2] = [Int8Kernel::Vnni, Int8Kernel::Avx2];

    /// True when this CPU can run the kernel (checked at run time).
    pub fn supported(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            match self {
                Int8Kernel::Vnni => has!("avx512f") && has!("avx512bw") && has!("avx512vnni"),
                Int8Kernel::Avx2 => has!("avx2") && has!("fma"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// The fastest kernel this CPU supports, `None` when it supports none (the f32 path).
    pub fn best() -> Option<Int8Kernel> {
        Int8Kernel::ALL.into_iter().find(|k| k.supported())
    }

    /// Short lower-case name (`vnni`, `avx2`), as read from `ESCUCHA_INT8_KERNEL`.
    pub fn name(self) -> &'static str {
        match self {
            Int8Kernel::Vnni => "vnni",
            Int8Kernel::Avx2 => "avx2",
        }
    }

    /// The kernel named `name` ([`Int8Kernel::name`], case-insensitive).
    pub fn from_name(name: &str) -> Option<Int8Kernel> {
        Int8Kernel::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Output columns per packed block.
    fn block(self) -> usize {
        match self {
            Int8Kernel::Vnni => NB_VNNI,
            Int8Kernel::Avx2 => NB_AVX2,
        }
    }

    /// The activations' zero point (`aq = round(a / sa) + zero`) and largest magnitude (the
    /// range is symmetric, so `aq` never takes the value 0).
    fn activation_range(self) -> (f32, f32) {
        match self {
            Int8Kernel::Vnni => (128.0, 127.0),
            Int8Kernel::Avx2 => (64.0, 63.0),
        }
    }
}

/// A `k × n` weight matrix quantised per column and packed for one [`Int8Kernel`].
#[derive(Debug)]
pub(crate) struct QMatrix {
    kernel: Int8Kernel,
    k: usize,
    n: usize,
    /// Per block of `kernel.block()` columns: for every 4 rows, the block's columns × 4 bytes.
    packed: Vec<i8>,
    /// Column scales.
    scale: Vec<f32>,
    /// `zero · Σ_k wq[k, c]`, to undo the activations' shift.
    shift: Vec<f32>,
}

impl QMatrix {
    /// Quantises a dense row-major `k × n` matrix (`k % 4 == 0`, `n % 64 == 0`) for `kernel`.
    pub(crate) fn new(w: &[f32], k: usize, n: usize, kernel: Int8Kernel) -> QMatrix {
        let nb = kernel.block();
        assert!(k.is_multiple_of(4) && n.is_multiple_of(NB_VNNI) && w.len() == k * n, "QMatrix: unsupported shape");
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
        let zero = kernel.activation_range().0;
        let mut packed = vec![0i8; k * n];
        let mut shift = vec![0f32; n];
        for cb in 0..n / nb {
            let base = cb * k * nb;
            for kk in 0..k / 4 {
                for col in 0..nb {
                    for t in 0..4 {
                        let v = q(kk * 4 + t, cb * nb + col);
                        packed[base + kk * 4 * nb + col * 4 + t] = v;
                        shift[cb * nb + col] += zero * v as f32;
                    }
                }
            }
        }
        QMatrix { kernel, k, n, packed, scale, shift }
    }

    /// Output width.
    pub(crate) fn cols(&self) -> usize {
        self.n
    }

    /// The kernel this matrix is packed for.
    pub(crate) fn kernel(&self) -> Int8Kernel {
        self.kernel
    }
}

/// Rows of activations quantised for one kernel by [`quantize_rows`] (reused across calls).
#[derive(Debug, Default)]
pub(crate) struct QRows {
    kernel: Option<Int8Kernel>,
    k: usize,
    /// `m × k` shifted unsigned values.
    q: Vec<u8>,
    /// One scale per row.
    scale: Vec<f32>,
}

/// Quantises the rows of `a` (`m × k`, dense) for `kernel` with one scale per row, into `out`.
pub(crate) fn quantize_rows(kernel: Int8Kernel, a: &[f32], k: usize, out: &mut QRows) {
    let (zero, levels) = kernel.activation_range();
    out.kernel = Some(kernel);
    out.k = k;
    out.q.clear();
    out.scale.clear();
    for row in a.chunks_exact(k) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let s = if max > 0.0 { max / levels } else { 1.0 };
        let inv = 1.0 / s;
        out.scale.push(s);
        // Shifted into [zero − levels + 0.5, zero + levels + 0.5] before truncating: rounds to
        // nearest without a libm call.
        out.q.extend(row.iter().map(|&v| ((v * inv).clamp(-levels, levels) + zero + 0.5) as u8));
    }
}

/// `c (m × n, row stride ldc) = dequantised (a · w)`, overwriting `c`. `a` holds at least `m`
/// rows from [`quantize_rows`] with `w`'s kernel. Panics if the CPU lacks that kernel or shapes
/// disagree (callers check).
pub(crate) fn gemm(m: usize, a: &QRows, w: &QMatrix, c: &mut [f32], ldc: usize) {
    assert!(w.kernel.supported(), "int8 gemm: the CPU lacks the {} kernel", w.kernel.name());
    assert!(a.kernel == Some(w.kernel) && a.k == w.k, "int8 gemm: activations quantised for another matrix");
    assert!(a.q.len() >= m * w.k && a.scale.len() >= m, "int8 gemm: a too small");
    assert!(ldc >= w.n && (m == 0 || c.len() >= (m - 1) * ldc + w.n), "int8 gemm: c too small");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU features were checked above, and the asserts bound every access: rows
    // `< m` of `a` (k bytes each) and of `c` (n floats at stride ldc), and whole packed blocks.
    unsafe {
        match w.kernel {
            Int8Kernel::Vnni => x86::gemm_vnni(m, &a.q, &a.scale, w, c, ldc),
            Int8Kernel::Avx2 => x86::gemm_avx2(m, &a.q, &a.scale, w, c, ldc),
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{MR_AVX2, MR_VNNI, NB_AVX2, NB_VNNI, QMatrix, VA};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn gemm_vnni(m: usize, aq: &[u8], sa: &[f32], w: &QMatrix, c: &mut [f32], ldc: usize) {
        let k = w.k;
        for cb in 0..w.n / NB_VNNI {
            let bp = unsafe { w.packed.as_ptr().add(cb * k * NB_VNNI) };
            let col = cb * NB_VNNI;
            let mut r = 0;
            while r < m {
                let rows = (m - r).min(MR_VNNI);
                let a = unsafe { aq.as_ptr().add(r * k) };
                let cp = unsafe { c.as_mut_ptr().add(r * ldc + col) };
                let s = &sa[r..r + rows];
                unsafe {
                    match rows {
                        6 => block_vnni::<6>(a, k, bp, s, w, col, cp, ldc),
                        5 => block_vnni::<5>(a, k, bp, s, w, col, cp, ldc),
                        4 => block_vnni::<4>(a, k, bp, s, w, col, cp, ldc),
                        3 => block_vnni::<3>(a, k, bp, s, w, col, cp, ldc),
                        2 => block_vnni::<2>(a, k, bp, s, w, col, cp, ldc),
                        _ => block_vnni::<1>(a, k, bp, s, w, col, cp, ldc),
                    }
                }
                r += rows;
            }
        }
    }

    /// `R` rows × 64 columns: accumulate over k in i32, then dequantise and store.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block_vnni<const R: usize>(
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
            let b = unsafe { bp.add(kk * 4 * NB_VNNI) };
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

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn gemm_avx2(m: usize, aq: &[u8], sa: &[f32], w: &QMatrix, c: &mut [f32], ldc: usize) {
        let k = w.k;
        for cb in 0..w.n / NB_AVX2 {
            let bp = unsafe { w.packed.as_ptr().add(cb * k * NB_AVX2) };
            let col = cb * NB_AVX2;
            let mut r = 0;
            while r < m {
                let rows = (m - r).min(MR_AVX2);
                let a = unsafe { aq.as_ptr().add(r * k) };
                let cp = unsafe { c.as_mut_ptr().add(r * ldc + col) };
                let s = &sa[r..r + rows];
                unsafe {
                    match rows {
                        4 => block_avx2::<4>(a, k, bp, s, w, col, cp, ldc),
                        3 => block_avx2::<3>(a, k, bp, s, w, col, cp, ldc),
                        2 => block_avx2::<2>(a, k, bp, s, w, col, cp, ldc),
                        _ => block_avx2::<1>(a, k, bp, s, w, col, cp, ldc),
                    }
                }
                r += rows;
            }
        }
    }

    /// `R` rows × 16 columns: per 4 steps of k, `vpmaddubsw` (u7 × i8 pairs into i16, which
    /// cannot saturate: |pair| ≤ 2 · 127 · 127) and `vpmaddwd` with ones (pairs of those into
    /// i32), accumulated in i32; then dequantise and store.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block_avx2<const R: usize>(
        a: *const u8,
        k: usize,
        bp: *const i8,
        sa: &[f32],
        w: &QMatrix,
        col: usize,
        c: *mut f32,
        ldc: usize,
    ) {
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_si256(); VA]; R];
        for kk in 0..k / 4 {
            let b = unsafe { bp.add(kk * 4 * NB_AVX2) };
            let mut bv = [_mm256_setzero_si256(); VA];
            for (j, v) in bv.iter_mut().enumerate() {
                *v = unsafe { _mm256_loadu_si256(b.add(32 * j) as *const __m256i) };
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_epi32(unsafe { (a.add(r * k + kk * 4) as *const i32).read_unaligned() });
                for (acc, &bj) in acc.iter_mut().zip(&bv) {
                    *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(_mm256_maddubs_epi16(av, bj), ones));
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let s = _mm256_set1_ps(sa[r]);
            for (j, &v) in acc.iter().enumerate() {
                let sw = unsafe { _mm256_loadu_ps(w.scale.as_ptr().add(col + j * 8)) };
                let sh = unsafe { _mm256_loadu_ps(w.shift.as_ptr().add(col + j * 8)) };
                let x = _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(v), sh), _mm256_mul_ps(sw, s));
                unsafe { _mm256_storeu_ps(c.add(r * ldc + j * 8), x) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic uniform values in [−0.5, 0.5).
    fn random(seed: &mut u32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|_| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (*seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    /// Random activations with the worst cases for saturation and rounding mixed in: a row at
    /// ± its maximum everywhere (every quantised value at an end of the range), an all-zero row,
    /// and rows of very different magnitudes.
    fn activations(seed: &mut u32, m: usize, k: usize) -> Vec<f32> {
        let mut a = random(seed, m * k);
        for (i, row) in a.chunks_exact_mut(k).enumerate() {
            match i % 5 {
                0 => row.iter_mut().enumerate().for_each(|(t, v)| *v = if t % 3 == 0 { -3.0 } else { 3.0 }),
                1 => row.fill(0.0),
                2 => row.iter_mut().for_each(|v| *v *= 1e-3),
                3 => row.iter_mut().for_each(|v| *v *= 40.0),
                _ => {}
            }
        }
        a
    }

    /// Random weights whose first columns are at ± their maximum everywhere (with the
    /// activations' extreme rows, every pair of `vpmaddubsw` is at its largest).
    fn weights(seed: &mut u32, k: usize, n: usize) -> Vec<f32> {
        let mut w = random(seed, k * n);
        for (r, row) in w.chunks_exact_mut(n).enumerate() {
            row[0] = 0.7;
            row[1] = -0.7;
            row[2] = if r % 2 == 0 { 0.7 } else { -0.7 };
        }
        w
    }

    /// The encoder's shapes (rows, k, n): cache-miss projection, first and second convolutions
    /// of the three branches, with row counts that are not multiples of the kernels' blocks.
    const SHAPES: [(usize, usize, usize); 5] =
        [(37, 512, 768), (13, 256, 512), (50, 256, 768), (7, 256, 1280), (1, 256, 512)];

    /// Plain scalar integer product of the quantised operands, dequantised in the kernels'
    /// order of float operations: the kernels must reproduce it bit for bit.
    fn scalar_reference(m: usize, a: &QRows, w: &QMatrix, wq: &[i8], exact: &mut Vec<i32>) -> Vec<f32> {
        let (k, n) = (w.k, w.n);
        exact.clear();
        let mut c = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let sum: i32 = (0..k).map(|t| a.q[i * k + t] as i32 * wq[t * n + j] as i32).sum();
                exact.push(sum);
                c[i * n + j] = (sum as f32 - w.shift[j]) * (w.scale[j] * a.scale[i]);
            }
        }
        c
    }

    #[test]
    fn every_kernel_matches_the_scalar_integer_reference_exactly() {
        let mut seed = 777u32;
        for kernel in Int8Kernel::ALL {
            if !kernel.supported() {
                eprintln!("SKIPPED: this CPU cannot run the {} kernel", kernel.name());
                continue;
            }
            for &(m, k, n) in &SHAPES {
                let a = activations(&mut seed, m, k);
                let w = weights(&mut seed, k, n);
                let q = QMatrix::new(&w, k, n, kernel);
                // The quantised weights, recomputed independently of the packing.
                let wq: Vec<i8> =
                    (0..k * n).map(|i| (w[i] / q.scale[i % n]).round().clamp(-127.0, 127.0) as i8).collect();
                let mut rows = QRows::default();
                quantize_rows(kernel, &a, k, &mut rows);
                let (zero, levels) = kernel.activation_range();
                assert!(rows.q.iter().all(|&v| (v as f32 - zero).abs() <= levels), "{kernel:?}: activation range");
                let mut exact = Vec::new();
                let want = scalar_reference(m, &rows, &q, &wq, &mut exact);
                // Dequantised output, written at a row stride wider than n (as the encoder does).
                let ldc = n + 64;
                let mut c = vec![f32::NAN; (m - 1) * ldc + n];
                gemm(m, &rows, &q, &mut c, ldc);
                for i in 0..m {
                    for j in 0..n {
                        assert_eq!(
                            c[i * ldc + j].to_bits(),
                            want[i * n + j].to_bits(),
                            "{kernel:?} {m}×{k}×{n} at ({i}, {j})"
                        );
                    }
                }
                // The raw i32 sums: with unit scales and no shift the output is the sum itself
                // (exact in f32, |sum| < 2^24).
                let mut raw = QMatrix::new(&w, k, n, kernel);
                raw.scale.fill(1.0);
                raw.shift.fill(0.0);
                let mut unit = QRows::default();
                quantize_rows(kernel, &a, k, &mut unit);
                unit.scale.fill(1.0);
                let mut sums = vec![0f32; m * n];
                gemm(m, &unit, &raw, &mut sums, n);
                for (idx, (&got, &want)) in sums.iter().zip(&exact).enumerate() {
                    assert_eq!(got as i64, want as i64, "{kernel:?} {m}×{k}×{n}: integer sum at {idx}");
                }
                // The extreme row met the extreme columns (pairs at ±2 · 127 · 127 for AVX2).
                assert!(exact[0] > 0 && exact[1] < 0 && exact[0] as usize >= k * 127 * 42, "{:?}", &exact[0..2]);
            }
        }
    }

    #[test]
    fn every_kernel_is_close_to_f32() {
        for kernel in Int8Kernel::ALL {
            if !kernel.supported() {
                eprintln!("SKIPPED: this CPU cannot run the {} kernel", kernel.name());
                continue;
            }
            let (m, k, n) = (13, 256, 128);
            let mut seed = 12345u32;
            let a = random(&mut seed, m * k);
            let w = random(&mut seed, k * n);
            let q = QMatrix::new(&w, k, n, kernel);
            let mut rows = QRows::default();
            quantize_rows(kernel, &a, k, &mut rows);
            let mut c = vec![0f32; m * n];
            gemm(m, &rows, &q, &mut c, n);
            let mut worst = 0f32;
            for i in 0..m {
                for j in 0..n {
                    let exact: f32 = (0..k).map(|t| a[i * k + t] * w[t * n + j]).sum();
                    worst = worst.max((exact - c[i * n + j]).abs());
                }
            }
            // Entries are sums of 256 products of ±0.5 values (typical size ≈ 2); the AVX2
            // kernel's 7-bit activations have twice the VNNI kernel's rounding step.
            let bound = match kernel {
                Int8Kernel::Vnni => 0.05,
                Int8Kernel::Avx2 => 0.1,
            };
            eprintln!("{kernel:?}: worst abs error {worst}");
            assert!(worst < bound, "{kernel:?}: worst abs error {worst}");
        }
    }

    /// Speed of each kernel (quantising the activations included) against f32 `sgemm`, on the
    /// second convolution of the 5-gram branch: `cargo test --release -p escucha-text --lib --
    /// --ignored kernel_speed --nocapture`.
    #[test]
    #[ignore]
    fn kernel_speed() {
        let (m, k, n) = (1024, 256, 1280);
        let mut seed = 1u32;
        let a = random(&mut seed, m * k);
        let w = random(&mut seed, k * n);
        let cpu = || {
            let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
            s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1e9
        };
        let reps = 20;
        let rate = |s: f64| (reps * m * k * n) as f64 / s / 1e9;
        for kernel in Int8Kernel::ALL.into_iter().filter(|k| k.supported()) {
            let q = QMatrix::new(&w, k, n, kernel);
            let mut rows = QRows::default();
            let mut c = vec![0f32; m * n];
            let t0 = cpu();
            for _ in 0..reps {
                quantize_rows(kernel, &a, k, &mut rows);
                gemm(m, &rows, &q, &mut c, n);
            }
            eprintln!("{kernel:?}: {:.1} G multiply-adds per CPU-second", rate(cpu() - t0));
        }
        let mut c = vec![0f32; m * n];
        let t0 = cpu();
        for _ in 0..reps {
            // SAFETY: dense row-major operands of exactly these shapes.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    w.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
        }
        eprintln!("f32 sgemm: {:.1} G multiply-adds per CPU-second", rate(cpu() - t0));
    }

    #[test]
    fn kernels_are_named_and_dispatched_best_first() {
        for kernel in Int8Kernel::ALL {
            assert_eq!(Int8Kernel::from_name(kernel.name()), Some(kernel));
        }
        assert_eq!(Int8Kernel::from_name(" AVX2 "), Some(Int8Kernel::Avx2));
        assert_eq!(Int8Kernel::from_name("off"), None);
        if Int8Kernel::Vnni.supported() {
            assert_eq!(Int8Kernel::best(), Some(Int8Kernel::Vnni));
        } else if Int8Kernel::Avx2.supported() {
            assert_eq!(Int8Kernel::best(), Some(Int8Kernel::Avx2));
        }
    }
}
