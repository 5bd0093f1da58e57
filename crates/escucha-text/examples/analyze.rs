//! Reads JSON lines `{"text": …}` on stdin and writes the analysis on stdout, like
//! `escucha text analyze` (for development without the CLI). Optional argument: auto, es, en.

fn main() -> std::io::Result<()> {
    let lang = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or_default();
    let options = escucha_text::AnalyzeOptions { lang, ..Default::default() };
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let summary = escucha_text::analyze_stream(stdin.lock(), stdout.lock(), &options)?;
    eprintln!("{} lines, {} failed", summary.lines, summary.failed);
    if summary.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
