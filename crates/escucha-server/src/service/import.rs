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
