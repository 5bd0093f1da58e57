//! Customer import from CSV or XLSX (`escucha import customers`): every row is checked first and
//! every bad row is reported by its line number; only a file without errors is written, in one
//! transaction, so nothing silently wrong gets in.
//!
//! Columns (header names are case-insensitive; spaces become `_`): `external_id` (required),
//! `name, email, phone, language, region, segment, lifecycle_stage, annual_value, owner_email`,
//! and `attr.NAME` for free attributes. An empty cell leaves the stored value as it is.
//! Unknown columns are refused, so a misspelt header never drops a column silently.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use escucha_core::customer::{CUSTOMER_FIELDS, CustomerPatch};
use escucha_core::ids::OrgId;
use escucha_core::values::ExternalId;
use escucha_store::{Store, StoreError};

/// Rows written per transaction batch.
const BATCH: usize = 2_000;

/// A table read from a file: its header and its rows with their line numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names as written.
    pub header: Vec<String>,
    /// (line number in the file, cells).
    pub rows: Vec<(usize, Vec<String>)>,
}

/// One problem with one row (line 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line in the file (spreadsheet row number for XLSX).
    pub line: usize,
    /// Column, when the problem is in one.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}: {}: {}", self.line, c, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read as a table.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Some rows are invalid; nothing was imported.
    #[error("{} row problem(s); nothing was imported", .0.len())]
    Rows(Vec<RowError>),
    /// Storage failed; the batch in flight was rolled back.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Customers created.
    pub created: usize,
    /// Customers updated.
    pub updated: usize,
}

/// Reads a `.csv` or `.xlsx` file into a table.
pub fn read_table(path: &Path) -> Result<Table, ImportError> {
    let unreadable = |reason: String| ImportError::Unreadable { path: path.display().to_string(), reason };
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "csv" => {
            let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
            read_csv(&bytes).map_err(unreadable)
        }
        "xlsx" | "xls" | "ods" => read_spreadsheet(path).map_err(unreadable),
        _ => Err(unreadable("use a .csv or .xlsx file".into())),
    }
}

/// Parses CSV bytes (UTF-8, with or without BOM; comma or semicolon separated, detected from
/// the header line; LF, CRLF or old-style CR line ends).
pub fn read_csv(bytes: &[u8]) -> Result<Table, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The CSV reader ends a record at CR, LF or CRLF but counts lines by LF only, and counts
    // the LF of a CRLF as part of the next record: rows of a CRLF file (Excel's export) would
    // be reported one line too early, and rows after a lone CR all on one line. Make every line
    // end a single LF first.
    let normalised: Vec<u8>;
    let bytes = if bytes.contains(&b'\r') {
        normalised = line_ends_to_lf(bytes);
        &normalised[..]
    } else {
        bytes
    };
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let delimiter =
        if first_line.iter().filter(|b| **b == b';').count() > first_line.iter().filter(|b| **b == b',').count() {
            b';'
        } else {
            b','
        };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(bytes);
    let header: Vec<String> = reader.headers().map_err(|e| e.to_string())?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(Table { header, rows })
}

/// Turns every CRLF and every lone CR into an LF.
fn line_ends_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {}
            b'\r' => out.push(b'\n'),
            _ => out.push(*b),
        }
    }
    out
}

fn read_spreadsheet(path: &Path) -> Result<Table, String> {
    use calamine::{Data, Reader, open_workbook_auto};
    let mut workbook = open_workbook_auto(path).map_err(|e| e.to_string())?;
    let range = workbook.worksheet_range_at(0).ok_or("the workbook has no sheet")?.map_err(|e| e.to_string())?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let cell = |d: &Data| match d {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    };
    let mut rows = range.rows().enumerate();
    let header = rows.next().map(|(_, r)| r.iter().map(cell).collect()).unwrap_or_default();
    let rows = rows.map(|(i, r)| (first_row + i + 1, r.iter().map(cell).collect())).collect();
    Ok(Table { header, rows })
}

/// Checks every row of a customer table; all problems are returned together.
pub fn parse_customers(table: &Table) -> Result<Vec<(usize, ExternalId, CustomerPatch)>, Vec<RowError>> {
    let mut errors = Vec::new();
    let columns: Vec<String> = table.header.iter().map(|h| h.trim().to_lowercase().replace(' ', "_")).collect();
    let Some(id_col) = columns.iter().position(|c| c == "external_id") else {
        return Err(vec![RowError { line: 1, column: None, message: "the header needs an external_id column".into() }]);
    };
    let mut seen_columns = HashMap::new();
    for (i, c) in columns.iter().enumerate() {
        let known = c == "external_id"
            || c.starts_with("attr.")
            || (CUSTOMER_FIELDS.contains(&c.as_str()) && c != "attributes");
        if !known {
            errors.push(RowError {
                line: 1,
                column: Some(table.header[i].clone()),
                message: format!("unknown column; use external_id, {}, or attr.NAME", CUSTOMER_FIELDS[..9].join(", ")),
            });
        }
        if seen_columns.insert(c.clone(), i).is_some() {
            errors.push(RowError {
                line: 1,
                column: Some(table.header[i].clone()),
                message: "column given twice".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::with_capacity(table.rows.len());
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for (line, cells) in &table.rows {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if cells.len() > columns.len() {
            errors.push(RowError {
                line: *line,
                column: None,
                message: format!("{} cells for {} columns", cells.len(), columns.len()),
            });
            continue;
        }
        let raw_id = cells.get(id_col).map(String::as_str).unwrap_or("");
        let external_id = match ExternalId::parse(raw_id) {
            Ok(id) => id,
            Err(e) => {
                errors.push(RowError {
                    line: *line,
                    column: Some("external_id".into()),
                    message: e.0[0].message.clone(),
                });
                continue;
            }
        };
        if let Some(first) = first_line_of.insert(external_id.to_string(), *line) {
            errors.push(RowError {
                line: *line,
                column: Some("external_id".into()),
                message: format!("'{external_id}' already appears on line {first}"),
            });
            continue;
        }
        let mut fields = Map::new();
        let mut attributes = Map::new();
        for (i, column) in columns.iter().enumerate() {
            let value = cells.get(i).map(|v| v.trim()).unwrap_or("");
            if i == id_col || value.is_empty() {
                continue;
            }
            if let Some(name) = column.strip_prefix("attr.") {
                attributes.insert(name.to_string(), Value::String(value.to_string()));
            } else if column == "annual_value" {
                match value.replace(',', ".").parse::<f64>() {
                    Ok(v) => {
                        fields.insert(
                            column.clone(),
                            serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null),
                        );
                    }
                    Err(_) => errors.push(RowError {
                        line: *line,
                        column: Some(column.clone()),
                        message: format!("'{value}' is not a number"),
                    }),
                }
            } else {
                fields.insert(column.clone(), Value::String(value.to_string()));
            }
        }
        if !attributes.is_empty() {
            fields.insert("attributes".into(), Value::Object(attributes));
        }
        match CustomerPatch::from_json(&fields) {
            Ok(patch) => out.push((*line, external_id, patch)),
            Err(e) => errors.extend(e.0.into_iter().map(|fe| RowError {
                line: *line,
                column: Some(fe.field),
                message: fe.message,
            })),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Checks a table and, when every row is valid, upserts the customers in batches.
pub async fn import_customers(
    store: &dyn Store,
    org: OrgId,
    table: &Table,
    now: DateTime<Utc>,
) -> Result<ImportSummary, ImportError> {
    let rows = parse_customers(table).map_err(ImportError::Rows)?;
    let mut summary = ImportSummary::default();
    let mut rows = rows.into_iter().map(|(_, id, patch)| (id, patch)).peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(BATCH).collect();
        for (_, created) in store.upsert_customers(org, batch, now).await? {
            if created { summary.created += 1 } else { summary.updated += 1 }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_checked_and_reported_by_line() {
        let csv = "External ID;Name;email;annual_value;attr.plan\n\
                   C-1;Ana;ana@x.example;1200,50;oro\n\
                   C-2;Luis;not-an-email;10;\n\
                   ;Sin id;;;\n\
                   C-1;Otra vez;;;\n\
                   C-3;Eva;;mucho;\n";
        let table = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(table.header[0], "External ID");
        let errors = parse_customers(&table).unwrap_err();
        let lines: Vec<(usize, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            lines,
            vec![(3, Some("email")), (4, Some("external_id")), (5, Some("external_id")), (6, Some("annual_value"))]
        );
        assert!(errors[2].message.contains("line 2"));
    }

    #[test]
    fn a_valid_csv_becomes_patches() {
        let table = read_csv(
            b"\xEF\xBB\xBFexternal_id,name,region,annual_value,attr.plan\nC-1,Ana,Norte,1200.5,oro\nC-2,,Sur,,\n",
        )
        .unwrap();
        let rows = parse_customers(&table).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].2.annual_value, escucha_core::customer::Patch::Set(1200.5));
        assert_eq!(rows[0].2.attributes.get("plan"), Some(&Some("oro".to_string())));
        assert_eq!(rows[1].2.name, escucha_core::customer::Patch::Keep, "empty cells keep the stored value");
    }

    #[test]
    fn rows_of_crlf_and_cr_files_are_reported_on_their_own_lines() {
        // Found by the property tests: CRLF files had every row one line too early (the CSV
        // reader counts a CRLF's LF in the next record), CR-only files every row on one line.
        for eol in ["\r\n", "\r", "\n"] {
            let csv = ["external_id,email", "C-1,nope", "\"C-2\",\"ana@x.example\"", "C-3,bad", ""].join(eol);
            let table = read_csv(csv.as_bytes()).unwrap();
            let lines: Vec<usize> = table.rows.iter().map(|(l, _)| *l).collect();
            assert_eq!(lines, vec![2, 3, 4], "{eol:?}");
            let errors = parse_customers(&table).unwrap_err();
            assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 4], "{eol:?}");
        }
    }

    #[test]
    fn unknown_or_missing_columns_are_refused() {
        let e = parse_customers(&read_csv(b"name,email\nAna,a@x.example\n").unwrap()).unwrap_err();
        assert!(e[0].message.contains("external_id"));
        let e = parse_customers(&read_csv(b"external_id,nmae\nC-1,Ana\n").unwrap()).unwrap_err();
        assert_eq!(e[0].column.as_deref(), Some("nmae"));
    }
}

/// Property tests of the import reader on outside files: random bytes, CSV-like text with every
/// quoting and delimiter trick, and real or damaged spreadsheets. Nothing may panic, and every
/// row problem names a line that exists (the header's, or a row's).
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    /// `cases` cases from a fixed seed, unless `PROPTEST_CASES` / `PROPTEST_RNG_SEED` say
    /// otherwise.
    fn config(cases: u32) -> ProptestConfig {
        let mut c = ProptestConfig::default();
        if std::env::var_os("PROPTEST_CASES").is_none() {
            c.cases = cases;
        }
        if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
            c.rng_seed = RngSeed::Fixed(0x1_3b0e);
        }
        c
    }

    /// Checks what [`parse_customers`] promises about line numbers, whatever the table.
    fn check_lines(table: &Table) -> Result<(), TestCaseError> {
        let lines: Vec<usize> = table.rows.iter().map(|(l, _)| *l).collect();
        prop_assert!(lines.windows(2).all(|w| w[0] < w[1]), "row lines increase: {lines:?}");
        prop_assert!(lines.iter().all(|l| *l >= 2), "rows come after the header: {lines:?}");
        match parse_customers(table) {
            Ok(rows) => {
                for (line, _, _) in &rows {
                    prop_assert!(lines.contains(line));
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in &errors {
                    prop_assert!(e.line == 1 || lines.contains(&e.line), "{e} names a line that exists");
                    let prefix = format!("line {}", e.line);
                    prop_assert!(e.to_string().starts_with(&prefix), "{e}");
                }
            }
        }
        Ok(())
    }

    const COLUMNS: &[&str] = &[
        "external_id",
        "External ID",
        "name",
        "email",
        "phone",
        "language",
        "region",
        "segment",
        "lifecycle_stage",
        "annual_value",
        "owner_email",
        "attr.plan",
        "attr.Plan Name",
        "attr.",
        "attributes",
        "nmae",
        "",
    ];

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9 .@_-]{0,12}",
            prop::sample::select(vec![
                "C-1",
                "C-1",
                " C-2 ",
                "a/b",
                "ana@acme.example",
                "ANA@ACME.EXAMPLE",
                "nope@",
                "es-MX",
                "xx-!",
                "1200,50",
                "1e400",
                "-1",
                "NaN",
                "inf",
                "0x10",
                "\"",
                "\"\"",
                "\"a,b\"",
                "\"a\nb\"",
                "a;b",
                "\r",
                "\u{feff}",
                "ñ🙂",
                "\u{0}",
                "\u{202e}",
            ])
            .prop_map(str::to_string),
            ".{0,20}",
            (1usize..700).prop_map(|n| "x".repeat(n)),
        ]
    }

    /// CSV-like text: a header of known, odd and repeated columns, rows of cells with quotes,
    /// delimiters and line breaks inside, either delimiter, CRLF or LF, with or without BOM.
    fn csv_text() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec(prop::sample::select(COLUMNS), 0..7),
            prop::collection::vec(prop::collection::vec(cell(), 0..9), 0..12),
            prop::sample::select(vec![",", ";", "\t"]),
            prop::sample::select(vec!["\n", "\r\n", "\r"]),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(header, rows, delim, eol, bom, quote)| {
                let q = |c: &str| if quote { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.to_string() };
                let mut text = String::new();
                if bom {
                    text.push('\u{feff}');
                }
                text.push_str(&header.iter().map(|h| q(h)).collect::<Vec<_>>().join(delim));
                for row in rows {
                    text.push_str(eol);
                    text.push_str(&row.iter().map(|c| q(c)).collect::<Vec<_>>().join(delim));
                }
                text.into_bytes()
            })
    }

    /// A table every row of which is valid: distinct ids and well-formed fields.
    fn valid_csv() -> impl Strategy<Value = (Vec<u8>, usize)> {
        let row = (
            "[A-Za-z ñ]{1,20}",
            prop::sample::select(vec!["", "ana@acme.example", "LUIS@Acme.Example"]),
            0u32..100_000,
        );
        (prop::collection::vec(row, 0..20), any::<bool>()).prop_map(|(rows, semicolon)| {
            let d = if semicolon { ";" } else { "," };
            let mut text = ["External ID", "name", "email", "annual_value", "attr.plan"].join(d);
            let n = rows.len();
            for (i, (name, email, value)) in rows.into_iter().enumerate() {
                let value = if semicolon { format!("{value},5") } else { format!("{value}.5") };
                text.push_str(&format!("\n\"C-{i}\"{d}\"{name}\"{d}{email}{d}{value}{d}\"oro{d} plata\""));
            }
            (text.into_bytes(), n)
        })
    }

    /// Writes `rows` (a header first) to a real .xlsx file, strings and numbers mixed.
    fn xlsx_bytes(rows: &[Vec<Result<String, f64>>]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    Ok(s) => sheet.write_string(r, c, s).map(|_| ()),
                    Err(n) => sheet.write_number(r, c, *n).map(|_| ()),
                }
                .expect("cell written");
            }
        }
        book.save_to_buffer().expect("workbook written")
    }

    fn xlsx_cell() -> impl Strategy<Value = Result<String, f64>> {
        prop_oneof![
            3 => cell().prop_map(|s| Ok(s.chars().filter(|c| !c.is_control()).collect())),
            1 => prop_oneof![Just(3.0), Just(1e15), Just(-2.5), Just(1e300), Just(f64::MIN_POSITIVE), any::<f64>()]
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Err),
        ]
    }

    fn read_bytes_as(bytes: &[u8], ext: &str) -> Result<Table, ImportError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(format!("customers.{ext}"));
        std::fs::write(&path, bytes).expect("temp file written");
        read_table(&path)
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn random_bytes_never_panic_as_csv(bytes in prop::collection::vec(any::<u8>(), 0..1_500)) {
            match read_csv(&bytes) {
                Ok(table) => check_lines(&table)?,
                Err(message) => prop_assert!(message.contains("line"), "a reading error says where: {message}"),
            }
        }

        #[test]
        fn csv_like_text_never_panics_and_errors_name_lines(bytes in csv_text()) {
            match read_csv(&bytes) {
                Ok(table) => check_lines(&table)?,
                Err(message) => prop_assert!(message.contains("line"), "a reading error says where: {message}"),
            }
        }

        #[test]
        fn valid_csv_imports_every_row(input in valid_csv()) {
            let (bytes, n) = input;
            let table = read_csv(&bytes).map_err(TestCaseError::fail)?;
            let rows = parse_customers(&table)
                .map_err(|e| TestCaseError::fail(format!("{:?}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>())))?;
            prop_assert_eq!(rows.len(), n);
            for (i, (line, id, patch)) in rows.iter().enumerate() {
                prop_assert_eq!(*line, i + 2);
                prop_assert_eq!(id.as_str(), format!("C-{i}"));
                prop_assert!(matches!(patch.annual_value, escucha_core::customer::Patch::Set(v) if v.fract() == 0.5));
            }
        }
    }

    proptest! {
        #![proptest_config(config(48))]

        #[test]
        fn spreadsheets_read_back_and_damaged_ones_never_panic(
            header in prop::collection::vec(prop::sample::select(&COLUMNS[..COLUMNS.len() - 1]), 1..6),
            rows in prop::collection::vec(prop::collection::vec(xlsx_cell(), 0..6), 0..8),
            damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut all: Vec<Vec<Result<String, f64>>> = vec![header.iter().map(|h| Ok(h.to_string())).collect()];
            all.extend(rows);
            let bytes = xlsx_bytes(&all);
            let table = read_bytes_as(&bytes, "xlsx").map_err(|e| TestCaseError::fail(e.to_string()))?;
            // The header reads back as written (padded with blanks when a row is wider).
            prop_assert!(table.header.len() >= header.len());
            for (i, h) in table.header.iter().enumerate() {
                prop_assert_eq!(h.as_str(), header.get(i).copied().unwrap_or(""));
            }
            check_lines(&table)?;
            // A damaged file is read or refused, never a panic.
            let mut broken = bytes.clone();
            for (at, byte) in damage {
                let i = at.index(broken.len());
                broken[i] ^= byte | 1;
            }
            let _ = read_bytes_as(&broken, "xlsx").map(|t| check_lines(&t));
            let _ = read_bytes_as(&bytes[..cut.index(bytes.len())], "xlsx");
        }

        #[test]
        fn random_bytes_never_panic_as_spreadsheets(
            bytes in prop::collection::vec(any::<u8>(), 0..600),
            ext in prop::sample::select(vec!["xlsx", "xls", "ods", "CSV", "txt"]),
        ) {
            let with_zip_magic: Vec<u8> = b"PK\x03\x04".iter().copied().chain(bytes.iter().copied()).collect();
            let _ = read_bytes_as(&bytes, ext);
            let _ = read_bytes_as(&with_zip_magic, ext);
        }
    }
}
