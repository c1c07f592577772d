//! Request fields by their column and flag names, and the request they make.

use nzpir::PirRequest;
use serde_json::{Map, Value};

use crate::args::RequestArgs;

/// A request field, as a CSV column names it (IR's names, flattened).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Ird,
    PieIrd,
    FilingPeriod,
    FirstName,
    MiddleName,
    LastName,
    FormattedName,
    Dob,
    Street,
    City,
    PostCode,
    State,
    Country,
    FormattedAddress,
}

impl Field {
    /// Every field, in the order of the column list in the docs.
    pub const ALL: [Field; 14] = [
        Field::Ird,
        Field::PieIrd,
        Field::FilingPeriod,
        Field::FirstName,
        Field::MiddleName,
        Field::LastName,
        Field::FormattedName,
        Field::Dob,
        Field::Street,
        Field::City,
        Field::PostCode,
        Field::State,
        Field::Country,
        Field::FormattedAddress,
    ];

    /// The column name.
    pub const fn column(self) -> &'static str {
        match self {
            Field::Ird => "IRD",
            Field::PieIrd => "PieIRD",
            Field::FilingPeriod => "FilingPeriod",
            Field::FirstName => "FirstName",
            Field::MiddleName => "MiddleName",
            Field::LastName => "LastName",
            Field::FormattedName => "FormattedName",
            Field::Dob => "Dob",
            Field::Street => "Street",
            Field::City => "City",
            Field::PostCode => "PostCode",
            Field::State => "State",
            Field::Country => "Country",
            Field::FormattedAddress => "FormattedAddress",
        }
    }

    /// The field a column header names (case and surrounding space ignored).
    pub fn from_column(name: &str) -> Option<Field> {
        let name = name.trim();
        Field::ALL
            .into_iter()
            .find(|f| f.column().eq_ignore_ascii_case(name))
    }
}

/// The values of one request, by field.
#[derive(Debug, Default, Clone)]
pub struct Fields {
    values: [Option<String>; 14],
}

impl Fields {
    /// Sets a field.
    pub fn set(&mut self, field: Field, value: impl Into<String>) {
        self.values[field as usize] = Some(value.into());
    }

    /// A field's value.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field as usize].as_deref()
    }

    /// The request these fields make. Every value is sent as given (local
    /// validation then names every broken rule); a name or address object is
    /// sent when any of its members is given.
    pub fn to_request(&self) -> Result<PirRequest, nzpir::Error> {
        let mut obj = Map::new();
        let put = |map: &mut Map<String, Value>, key: &str, f: Field| {
            if let Some(v) = self.get(f) {
                map.insert(key.to_owned(), Value::String(v.to_owned()));
            }
        };
        obj.insert(
            "IRD".to_owned(),
            Value::String(self.get(Field::Ird).unwrap_or_default().to_owned()),
        );
        put(&mut obj, "PieIRD", Field::PieIrd);
        put(&mut obj, "FilingPeriod", Field::FilingPeriod);
        put(&mut obj, "FormattedName", Field::FormattedName);
        let mut name = Map::new();
        put(&mut name, "FirstName", Field::FirstName);
        put(&mut name, "MiddleName", Field::MiddleName);
        put(&mut name, "LastName", Field::LastName);
        if !name.is_empty() {
            obj.insert("Name".to_owned(), Value::Object(name));
        }
        put(&mut obj, "Dob", Field::Dob);
        put(&mut obj, "FormattedAddress", Field::FormattedAddress);
        let mut addr = Map::new();
        put(&mut addr, "Street", Field::Street);
        put(&mut addr, "City", Field::City);
        put(&mut addr, "PostCode", Field::PostCode);
        put(&mut addr, "State", Field::State);
        put(&mut addr, "Country", Field::Country);
        if !addr.is_empty() {
            obj.insert("Address".to_owned(), Value::Object(addr));
        }
        let json = serde_json::to_vec(&Value::Object(obj)).unwrap_or_default();
        PirRequest::from_json(&json)
    }
}

impl From<&RequestArgs> for Fields {
    fn from(r: &RequestArgs) -> Self {
        let mut f = Fields::default();
        f.set(Field::Ird, r.ird.clone());
        let optional = [
            (Field::PieIrd, &r.pie_ird),
            (Field::FilingPeriod, &r.filing_period),
            (Field::FormattedName, &r.formatted_name),
            (Field::FirstName, &r.first_name),
            (Field::MiddleName, &r.middle_name),
            (Field::LastName, &r.last_name),
            (Field::Dob, &r.dob),
            (Field::FormattedAddress, &r.formatted_address),
            (Field::Street, &r.street),
            (Field::City, &r.city),
            (Field::PostCode, &r.post_code),
            (Field::State, &r.state),
            (Field::Country, &r.country),
        ];
        for (field, value) in optional {
            if let Some(v) = value {
                f.set(field, v.clone());
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::from_column(f.column()), Some(f));
            assert_eq!(
                Field::from_column(&format!(" {} ", f.column().to_lowercase())),
                Some(f)
            );
        }
        assert_eq!(Field::from_column("MemberNo"), None);
    }

    #[test]
    fn objects_only_when_a_member_is_given() {
        let mut f = Fields::default();
        f.set(Field::Ird, "49-091-850");
        f.set(Field::PieIrd, "125000002");
        let req = f.to_request().expect("request");
        assert_eq!(
            req.to_json(),
            br#"{"IRD":"049091850","PieIRD":"125000002"}"#.to_vec()
        );
        f.set(Field::FirstName, "Gary");
        f.set(Field::Country, "NZ");
        let req = f.to_request().expect("request");
        let e = req.validate().expect_err("incomplete name and address");
        let fields: Vec<&str> = e.field_errors().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["Name.LastName", "Address.Street", "Address.City"]);
    }
}
