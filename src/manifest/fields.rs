//! A reader over a spanned TOML table that collects every problem instead of stopping at the
//! first: missing keys, wrong types, unknown keys, bad values. The typed manifest parsers use it.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostics::{Code, Finding, SourceFile};

use super::Spans;

/// Collects findings for one file and the span of every field read.
pub(crate) struct Ctx<'f> {
    pub file: &'f SourceFile,
    pub findings: Vec<Finding>,
    pub spans: Spans,
}

impl<'f> Ctx<'f> {
    pub fn new(file: &'f SourceFile) -> Self {
        Ctx {
            file,
            findings: Vec::new(),
            spans: Spans::default(),
        }
    }

    /// Records a finding at a span.
    pub fn error(&mut self, code: Code, span: Range<usize>, msg: impl Into<String>, help: &str) {
        let mut f = Finding::new(code, msg).at(self.file, span);
        if !help.is_empty() {
            f = f.help(help);
        }
        self.findings.push(f);
    }
}

/// A TOML table being read; remembers which keys were used so the rest can be reported.
pub(crate) struct Table<'t, 'i> {
    table: &'t DeTable<'i>,
    span: Range<usize>,
    /// Dotted path of this table ("" for the document, "owner", "apis[1]").
    path: String,
    /// Every key the parser asked for, present or not (for "did you mean").
    asked: Vec<&'static str>,
}

/// A value read from the table: the value and the span of its text.
pub(crate) type Val<T> = Spanned<T>;

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date/time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'t, 'i> Table<'t, 'i> {
    /// The document's root table.
    pub fn root(table: &'t Spanned<DeTable<'i>>) -> Self {
        Table {
            table: table.get_ref(),
            span: table.span(),
            path: String::new(),
            asked: Vec::new(),
        }
    }

    /// Dotted path of a key of this table.
    pub fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    fn get(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.asked.push(key);
        let v = self.table.get(key)?;
        ctx.spans.insert(self.field(key), v.span());
        Some(v)
    }

    fn missing(&self, ctx: &mut Ctx<'_>, key: &str, what: &str) {
        let where_ = if self.path.is_empty() {
            "the file".to_string()
        } else {
            format!("[{}]", self.path)
        };
        // point at the table header (or the first byte of the document)
        let span = if self.path.is_empty() {
            0..0
        } else {
            self.span.clone()
        };
        ctx.error(
            Code::MISSING_FIELD,
            span,
            format!("missing required field `{}` in {where_}", self.field(key)),
            &format!("add `{key} = {what}`"),
        );
    }

    fn wrong(&self, ctx: &mut Ctx<'_>, key: &str, v: &Spanned<DeValue<'_>>, expected: &str) {
        let extra = if matches!(v.get_ref(), DeValue::String(_)) && expected.contains("date") {
            " (write dates without quotes: 2027-03-01)"
        } else {
            ""
        };
        ctx.error(
            Code::WRONG_TYPE,
            v.span(),
            format!(
                "`{}` must be {expected}, found {}{extra}",
                self.field(key),
                type_name(v.get_ref())
            ),
            "",
        );
    }

    /// A string field. `required` reports its absence.
    pub fn str(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &'static str,
        required: bool,
    ) -> Option<Val<String>> {
        let Some(v) = self.get(ctx, key) else {
            if required {
                self.missing(ctx, key, "\"…\"");
            }
            return None;
        };
        match v.get_ref() {
            DeValue::String(s) => Some(Spanned::new(v.span(), s.to_string())),
            _ => {
                self.wrong(ctx, key, v, "a string");
                None
            }
        }
    }

    /// A boolean field.
    pub fn bool(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Option<Val<bool>> {
        let v = self.get(ctx, key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Spanned::new(v.span(), *b)),
            _ => {
                self.wrong(ctx, key, v, "true or false");
                None
            }
        }
    }

    /// An integer field.
    pub fn int(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &'static str,
        required: bool,
    ) -> Option<Val<i64>> {
        let Some(v) = self.get(ctx, key) else {
            if required {
                self.missing(ctx, key, "1");
            }
            return None;
        };
        let parsed = match v.get_ref() {
            DeValue::Integer(i) => {
                i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
            }
            _ => None,
        };
        if parsed.is_none() {
            if matches!(v.get_ref(), DeValue::Integer(_)) {
                ctx.error(
                    Code::INVALID_NUMBER,
                    v.span(),
                    format!("`{}` is too large", self.field(key)),
                    "",
                );
            } else {
                self.wrong(ctx, key, v, "an integer");
            }
        }
        parsed.map(|n| Spanned::new(v.span(), n))
    }

    /// A number field (integer or float).
    pub fn number(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Option<Val<f64>> {
        let v = self.get(ctx, key)?;
        let parsed = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n.is_finite() => Some(Spanned::new(v.span(), n)),
            _ => {
                self.wrong(ctx, key, v, "a finite number");
                None
            }
        }
    }

    /// A date field (TOML local date).
    pub fn date(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Option<Val<chrono::NaiveDate>> {
        let v = self.get(ctx, key)?;
        let DeValue::Datetime(dt) = v.get_ref() else {
            self.wrong(ctx, key, v, "a date");
            return None;
        };
        match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                match chrono::NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()) {
                    Some(date) => Some(Spanned::new(v.span(), date)),
                    None => {
                        ctx.error(
                            Code::INVALID_DATE,
                            v.span(),
                            format!("`{}` is not a real date", self.field(key)),
                            "",
                        );
                        None
                    }
                }
            }
            _ => {
                ctx.error(
                    Code::INVALID_DATE,
                    v.span(),
                    format!(
                        "`{}` must be a date without time or offset",
                        self.field(key)
                    ),
                    "write just the day, e.g. 2027-03-01",
                );
                None
            }
        }
    }

    /// A list of strings.
    pub fn str_list(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Option<Vec<Val<String>>> {
        let v = self.get(ctx, key)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong(ctx, key, v, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::String(s) => {
                    ctx.spans
                        .insert(format!("{}[{i}]", self.field(key)), item.span());
                    out.push(Spanned::new(item.span(), s.to_string()))
                }
                other => ctx.error(
                    Code::WRONG_TYPE,
                    item.span(),
                    format!(
                        "`{}[{i}]` must be a string, found {}",
                        self.field(key),
                        type_name(other)
                    ),
                    "",
                ),
            }
        }
        ctx.spans.insert(self.field(key), v.span());
        Some(out)
    }

    /// A list of integers.
    pub fn int_list(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Option<Vec<Val<i64>>> {
        let v = self.get(ctx, key)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong(ctx, key, v, "an array of integers");
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let n = match item.get_ref() {
                DeValue::Integer(n) => {
                    i64::from_str_radix(&n.as_str().replace('_', ""), n.radix()).ok()
                }
                _ => None,
            };
            match n {
                Some(n) => out.push(Spanned::new(item.span(), n)),
                None => ctx.error(
                    Code::WRONG_TYPE,
                    item.span(),
                    format!(
                        "`{}[{i}]` must be an integer, found {}",
                        self.field(key),
                        type_name(item.get_ref())
                    ),
                    "",
                ),
            }
        }
        ctx.spans.insert(self.field(key), v.span());
        Some(out)
    }

    /// A sub-table (`[key]` or `key = { … }`).
    pub fn table(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &'static str,
        required: bool,
    ) -> Option<Table<'t, 'i>> {
        let Some(v) = self.get(ctx, key) else {
            if required {
                let f = self.field(key);
                ctx.error(
                    Code::MISSING_FIELD,
                    if self.path.is_empty() {
                        0..0
                    } else {
                        self.span.clone()
                    },
                    format!("missing required table `[{f}]`"),
                    &format!("add a `[{f}]` section"),
                );
            }
            return None;
        };
        match v.get_ref() {
            DeValue::Table(t) => Some(Table {
                table: t,
                span: v.span(),
                path: self.field(key),
                asked: Vec::new(),
            }),
            _ => {
                self.wrong(ctx, key, v, "a table");
                None
            }
        }
    }

    /// An array of tables (`[[key]]`).
    pub fn tables(&mut self, ctx: &mut Ctx<'_>, key: &'static str) -> Vec<Table<'t, 'i>> {
        let Some(v) = self.get(ctx, key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong(ctx, key, v, "an array of tables ([[…]])");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(t) => out.push(Table {
                    table: t,
                    span: item.span(),
                    path: format!("{}[{i}]", self.field(key)),
                    asked: Vec::new(),
                }),
                other => ctx.error(
                    Code::WRONG_TYPE,
                    item.span(),
                    format!(
                        "`{}[{i}]` must be a table, found {}",
                        self.field(key),
                        type_name(other)
                    ),
                    "",
                ),
            }
        }
        out
    }

    /// Reports every key of the table that the parser did not ask for.
    pub fn finish(self, ctx: &mut Ctx<'_>) {
        for (k, _) in self.table.iter() {
            let key: &str = k.get_ref();
            if self.asked.contains(&key) {
                continue;
            }
            let name = self.field(key);
            let help = self
                .asked
                .iter()
                .filter(|c| !self.table.contains_key(**c))
                .map(|c| (strsim::damerau_levenshtein(c, key), *c))
                .filter(|(d, c)| *d <= 2.max(c.len() / 4))
                .min()
                .map(|(_, c)| format!("did you mean `{}`?", join(&self.path, c)))
                .unwrap_or_else(|| {
                    format!(
                        "remove it; allowed here: {}",
                        self.asked
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                });
            ctx.error(
                Code::UNKNOWN_KEY,
                k.span(),
                format!("unknown key `{name}`"),
                &help,
            );
        }
    }
}
