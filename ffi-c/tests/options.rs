//! The options schema's cases (tests/options/cases.json, made by the core
//! from the schema) through the C ABI's entry point: each bad value as
//! `nzpir_client_new_from_json`'s JSON fails with `NZPIR_STATUS_CONFIG` and
//! the same rule as every other surface, the setting named by its JSON key
//! (in the message and by `nzpir_error_setting`).

use std::ffi::{CStr, CString};
use std::ptr;

use nzpir_ffi::{
    nzpir_client, nzpir_client_new_from_json, nzpir_error, nzpir_error_free, nzpir_error_message,
    nzpir_error_setting, nzpir_status,
};

#[test]
fn a_bad_value_names_its_json_key() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/options/cases.json");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("cases.json")).expect("json");
    assert!(cases.len() >= 30, "{}", cases.len());
    for case in &cases {
        let json = &case["json"];
        let doc = CString::new(json["document"].as_str().expect("document")).expect("no NUL");
        let mut client: *mut nzpir_client = ptr::null_mut();
        let mut err: *mut nzpir_error = ptr::null_mut();
        // SAFETY: a NUL-terminated string and two out-pointers on the stack.
        let status = unsafe { nzpir_client_new_from_json(doc.as_ptr(), &mut client, &mut err) };
        assert_eq!(status, nzpir_status::Config, "{}", json["name"]);
        assert!(client.is_null());
        assert!(!err.is_null());
        // SAFETY: `err` is the error just made; its message lives as long as it.
        let message = unsafe { CStr::from_ptr(nzpir_error_message(err)) }
            .to_str()
            .expect("UTF-8")
            .to_owned();
        // SAFETY: as above; NULL when the error names no setting.
        let setting = unsafe { nzpir_error_setting(err) };
        assert!(!setting.is_null(), "{}", json["name"]);
        // SAFETY: a NUL-terminated string owned by `err`, still alive.
        let setting = unsafe { CStr::from_ptr(setting) }
            .to_str()
            .expect("UTF-8")
            .to_owned();
        // SAFETY: freed once.
        unsafe { nzpir_error_free(err) };
        assert_eq!(
            message,
            json["error"].as_str().expect("error"),
            "{}",
            json["name"]
        );
        let key = json["name"].as_str().expect("name");
        assert_eq!(setting, key);
        assert!(message.contains(&format!("`{key}`")), "{message}");
    }
}
