//! Reading JavaScript arguments with errors that name the field.
//!
//! Arguments arrive as plain values and are checked here rather than by
//! napi's own conversion, so that a wrong type is a `TypeError` naming the
//! field (`request.name.firstName must be a string`) and a message never
//! repeats the value (it could be an IRD number or a key).

use napi::bindgen_prelude::*;
use napi::{JsDate, ValueType};
use nzpir::{DateText, PeriodText};

use crate::error::ArgError;

/// What a value is, in words, for messages.
fn type_name(v: &Unknown<'_>) -> &'static str {
    match v.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::Object) if v.is_array().unwrap_or(false) => "an array",
        Ok(ValueType::Object) => "an object",
        _ => "an unknown value",
    }
}

fn unreadable(path: &str) -> ArgError {
    ArgError::new(path, "could not be read")
}

/// A string argument (not a field of an object).
pub fn string_arg(v: &Unknown<'_>, path: &str) -> std::result::Result<String, ArgError> {
    match v.get_type() {
        Ok(ValueType::String) => unsafe { v.cast::<String>() }.map_err(|_| unreadable(path)),
        _ => Err(ArgError::new(
            path,
            format!("must be a string (got {})", type_name(v)),
        )),
    }
}

/// Is the value `undefined` or `null`?
pub fn is_nullish(v: &Unknown<'_>) -> bool {
    matches!(v.get_type(), Ok(ValueType::Undefined) | Ok(ValueType::Null))
}

/// The fields of a plain object argument, read one by one with checks.
pub struct Fields<'env> {
    obj: Object<'env>,
    path: String,
}

impl<'env> Fields<'env> {
    /// `v` must be a plain object (not null, not an array).
    pub fn new(v: Unknown<'env>, path: &str) -> std::result::Result<Self, ArgError> {
        let is_object =
            matches!(v.get_type(), Ok(ValueType::Object)) && !v.is_array().unwrap_or(true);
        if !is_object {
            return Err(ArgError::new(
                path,
                format!("must be an object (got {})", type_name(&v)),
            ));
        }
        let obj = v.coerce_to_object().map_err(|_| unreadable(path))?;
        Ok(Fields {
            obj,
            path: path.to_owned(),
        })
    }

    /// Like [`new`](Self::new), but `undefined` and `null` give `None`.
    pub fn optional(
        v: Option<Unknown<'env>>,
        path: &str,
    ) -> std::result::Result<Option<Self>, ArgError> {
        match v {
            None => Ok(None),
            Some(v) if is_nullish(&v) => Ok(None),
            Some(v) => Self::new(v, path).map(Some),
        }
    }

    /// The object itself.
    pub fn object(&self) -> &Object<'env> {
        &self.obj
    }

    /// The path of a field, for messages.
    pub fn path_of(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// Rejects keys that are not in `allowed`: a typo (`pieIRD`, `pie_ird`)
    /// would otherwise be silently ignored.
    pub fn only(&self, allowed: &[&str]) -> std::result::Result<(), ArgError> {
        let keys = Object::keys(&self.obj).map_err(|_| unreadable(&self.path))?;
        for k in keys {
            if !allowed.contains(&k.as_str()) {
                let shown: String = k.chars().take(40).collect();
                return Err(ArgError::new(
                    &self.path,
                    format!(
                        "has no field `{shown}` (known fields: {})",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The raw value of a field, `None` when it is `undefined` or `null`.
    pub fn value(&self, key: &str) -> std::result::Result<Option<Unknown<'env>>, ArgError> {
        let v: Unknown<'env> = self
            .obj
            .get_named_property(key)
            .map_err(|_| unreadable(&self.path_of(key)))?;
        Ok(if is_nullish(&v) { None } else { Some(v) })
    }

    fn wrong(&self, key: &str, want: &str, v: &Unknown<'_>) -> ArgError {
        ArgError::new(
            self.path_of(key),
            format!("must be {want} (got {})", type_name(v)),
        )
    }

    /// A string field.
    pub fn string(&self, key: &str) -> std::result::Result<Option<String>, ArgError> {
        match self.value(key)? {
            None => Ok(None),
            Some(v) => string_arg(&v, &self.path_of(key)).map(Some),
        }
    }

    /// A string field that must be there.
    pub fn required_string(&self, key: &str) -> std::result::Result<String, ArgError> {
        self.string(key)?
            .ok_or_else(|| ArgError::new(self.path_of(key), "is required"))
    }

    /// A boolean field.
    pub fn boolean(&self, key: &str) -> std::result::Result<Option<bool>, ArgError> {
        match self.value(key)? {
            None => Ok(None),
            Some(v) if matches!(v.get_type(), Ok(ValueType::Boolean)) => {
                unsafe { v.cast::<bool>() }
                    .map(Some)
                    .map_err(|_| unreadable(&self.path_of(key)))
            }
            Some(v) => Err(self.wrong(key, "a boolean", &v)),
        }
    }

    /// A finite number field.
    pub fn number(&self, key: &str) -> std::result::Result<Option<f64>, ArgError> {
        match self.value(key)? {
            None => Ok(None),
            Some(v) if matches!(v.get_type(), Ok(ValueType::Number)) => {
                let n = unsafe { v.cast::<f64>() }.map_err(|_| unreadable(&self.path_of(key)))?;
                if n.is_finite() {
                    Ok(Some(n))
                } else {
                    Err(ArgError::new(self.path_of(key), "must be a finite number"))
                }
            }
            Some(v) => Err(self.wrong(key, "a number", &v)),
        }
    }

    /// A positive number of seconds.
    pub fn seconds(&self, key: &str) -> std::result::Result<Option<f64>, ArgError> {
        match self.number(key)? {
            Some(n) if n <= 0.0 => Err(ArgError::new(
                self.path_of(key),
                "must be a positive number of seconds",
            )),
            other => Ok(other),
        }
    }

    /// A whole number from 0 up.
    pub fn count(&self, key: &str) -> std::result::Result<Option<u32>, ArgError> {
        match self.number(key)? {
            None => Ok(None),
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => {
                Ok(Some(n as u32))
            }
            Some(_) => Err(ArgError::new(
                self.path_of(key),
                "must be a whole number, 0 or more",
            )),
        }
    }

    /// A nested object field.
    pub fn fields(&self, key: &str) -> std::result::Result<Option<Fields<'env>>, ArgError> {
        Fields::optional(self.value(key)?, &self.path_of(key))
    }

    /// A date field: a `yyyy-MM-dd` string (checked later, with the other
    /// rules) or a `Date`. A `Date` at midnight UTC (`new Date('1990-01-02')`,
    /// `Date.UTC(...)`) gives its UTC date; any other `Date` gives its local
    /// calendar date (`new Date(1990, 0, 2)`).
    pub fn date(&self, key: &str) -> std::result::Result<Option<DateText>, ArgError> {
        let path = self.path_of(key);
        match self.value(key)? {
            None => Ok(None),
            Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => {
                string_arg(&v, &path).map(|s| Some(DateText::from(s)))
            }
            Some(v) if v.is_date().unwrap_or(false) => date_text(&v, &path).map(Some),
            Some(v) => Err(self.wrong(key, "a yyyy-MM-dd string or a Date", &v)),
        }
    }

    /// A filing period field: a year (a whole number), a `yyyy-MM-dd`
    /// string, a year as text, or a `Date` (see [`date`](Self::date)). The
    /// core reads each form ([`PeriodText`]); a year that makes no period is
    /// reported by validation, with the other rules.
    pub fn period(&self, key: &str) -> std::result::Result<Option<PeriodText>, ArgError> {
        let path = self.path_of(key);
        match self.value(key)? {
            None => Ok(None),
            Some(v) if matches!(v.get_type(), Ok(ValueType::Number)) => {
                let n = self
                    .number(key)?
                    .ok_or_else(|| ArgError::new(&path, "could not be read"))?;
                if n.fract() != 0.0 || n.abs() > 1e15 {
                    return Err(ArgError::new(
                        path,
                        "as a number must be the year the period ends (e.g. 2026)",
                    ));
                }
                Ok(Some(PeriodText::year(n as i64)))
            }
            Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => {
                string_arg(&v, &path).map(|s| Some(PeriodText::text(s)))
            }
            Some(v) if v.is_date().unwrap_or(false) => {
                date_text(&v, &path).map(|d| Some(PeriodText::from(d)))
            }
            Some(v) => Err(self.wrong(key, "a year, a yyyy-MM-dd string or a Date", &v)),
        }
    }

    /// A function field.
    pub fn function(
        &self,
        key: &str,
    ) -> std::result::Result<Option<Function<'env, Unknown<'env>, Unknown<'env>>>, ArgError> {
        match self.value(key)? {
            None => Ok(None),
            Some(v) if matches!(v.get_type(), Ok(ValueType::Function)) => unsafe { v.cast() }
                .map(Some)
                .map_err(|_| unreadable(&self.path_of(key))),
            Some(v) => Err(self.wrong(key, "a function", &v)),
        }
    }
}

const MS_PER_DAY: f64 = 86_400_000.0;

/// A `Date`'s calendar day: at midnight UTC its UTC date, else its local
/// date; the core turns the day into text ([`DateText::from_unix_day`]).
fn date_text(v: &Unknown<'_>, path: &str) -> std::result::Result<DateText, ArgError> {
    let date: JsDate<'_> = unsafe { v.cast() }.map_err(|_| unreadable(path))?;
    let ms = date.value_of().map_err(|_| unreadable(path))?;
    if !ms.is_finite() {
        return Err(ArgError::new(path, "must be a valid Date"));
    }
    let local_ms = if ms.rem_euclid(MS_PER_DAY) == 0.0 {
        ms
    } else {
        let obj = v.coerce_to_object().map_err(|_| unreadable(path))?;
        let offset: Function<'_, (), f64> = obj
            .get_named_property("getTimezoneOffset")
            .map_err(|_| unreadable(path))?;
        let minutes = offset.apply(obj, ()).map_err(|_| unreadable(path))?;
        ms - minutes * 60_000.0
    };
    let days = (local_ms / MS_PER_DAY).floor() as i64;
    DateText::from_unix_day(days).ok_or_else(|| ArgError::new(path, "is out of range"))
}
