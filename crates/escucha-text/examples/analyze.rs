//! Reads JSON lines `{"text": …}` on stdin and writes the analysis on stdout, like
//! `escucha text analyze` (for development without the CLI). Optional argument: auto, es, en.
//! With `ESCUCHA_MODEL_DIR` set to an installed model, runs the model route, like the CLI does
//! when the model is installed; prints which engine ran on stderr.

fn main() -> std::io::Result<()> {
    let lang = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or_default();
    let model_dir = std::env::var_os("ESCUCHA_MODEL_DIR").map(std::path::PathBuf::from);
    let options = escucha_text::AnalyzeOptions { lang, model_dir, ..Default::default() };
    let (pipeline, note) = escucha_text::open_pipeline(&options);
    eprintln!("{note}");
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let summary = escucha_text::analyze_stream_with(&pipeline, stdin.lock(), stdout.lock(), &options)?;
    eprintln!("{} lines, {} failed", summary.lines, summary.failed);
    if summary.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
