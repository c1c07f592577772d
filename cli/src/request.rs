//! Request fields by their column and flag names, and the request they make.

use nzpir::{Address, Name, PirRequest};

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

    /// The request these fields make, through the core's builder. Every
    /// value is kept as given (local validation then names every broken
    /// rule); a name or address object is sent when any of its members is
    /// given. A filing period may be a year (`2026`) or a date.
    pub fn to_request(&self) -> PirRequest {
        let mut b = PirRequest::builder(self.get(Field::Ird).unwrap_or_default());
        if let Some(v) = self.get(Field::PieIrd) {
            b = b.pie_ird(v);
        }
        if let Some(v) = self.get(Field::FilingPeriod) {
            b = b.filing_period(v);
        }
        if let Some(v) = self.get(Field::FormattedName) {
            b = b.formatted_name(v);
        }
        let name_fields = [Field::FirstName, Field::MiddleName, Field::LastName];
        if name_fields.iter().any(|f| self.get(*f).is_some()) {
            let mut name = Name::empty();
            if let Some(v) = self.get(Field::FirstName) {
                name = name.with_first_name(v);
            }
            if let Some(v) = self.get(Field::MiddleName) {
                name = name.with_middle_name(v);
            }
            if let Some(v) = self.get(Field::LastName) {
                name = name.with_last_name(v);
            }
            b = b.name(name);
        }
        if let Some(v) = self.get(Field::Dob) {
            b = b.dob(v);
        }
        if let Some(v) = self.get(Field::FormattedAddress) {
            b = b.formatted_address(v);
        }
        let address_fields = [
            Field::Street,
            Field::City,
            Field::PostCode,
            Field::State,
            Field::Country,
        ];
        if address_fields.iter().any(|f| self.get(*f).is_some()) {
            let mut addr = Address::empty();
            if let Some(v) = self.get(Field::Street) {
                addr = addr.with_street(v);
            }
            if let Some(v) = self.get(Field::City) {
                addr = addr.with_city(v);
            }
            if let Some(v) = self.get(Field::PostCode) {
                addr = addr.with_post_code(v);
            }
            if let Some(v) = self.get(Field::State) {
                addr = addr.with_state(v);
            }
            if let Some(v) = self.get(Field::Country) {
                addr = addr.with_country(v);
            }
            b = b.address(addr);
        }
        b.build()
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
        let req = f.to_request();
        assert_eq!(
            req.to_json(),
            br#"{"IRD":"049091850","PieIRD":"125000002"}"#.to_vec()
        );
        f.set(Field::FirstName, "Gary");
        f.set(Field::Country, "NZ");
        let req = f.to_request();
        let e = req.validate().expect_err("incomplete name and address");
        let fields: Vec<&str> = e.field_errors().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["Name.LastName", "Address.Street", "Address.City"]);
    }

    #[test]
    fn a_filing_period_may_be_a_year() {
        let mut f = Fields::default();
        f.set(Field::Ird, "49-091-850");
        f.set(Field::FilingPeriod, "2025");
        let req = f.to_request();
        assert_eq!(req.filing_period(), Some("2025-03-31"));
    }
}
