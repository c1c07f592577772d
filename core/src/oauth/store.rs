//! Where OAuth tokens live between calls and between processes.
//!
//! IR's refresh tokens are single-use: once a refresh succeeds, the old refresh
//! token is dead and the new one is the only way back in without a person
//! consenting again. A [`TokenStore`] is therefore written durably *before*
//! the new access token is handed to anyone.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind as IoErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::error::{Error, ErrorKind};

/// The tokens of one OAuth grant.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The access token (sent as `Authorization: Bearer ...`).
    pub access_token: Secret,
    /// The refresh token; absent for desktop applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: i64,
    /// The granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Keeps the current [`TokenSet`]. Implementations must make `save` durable
/// before returning `Ok`: the caller hands out the new access token only then.
///
/// The C, Python and Node bindings implement this over host callbacks.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored tokens, `None` when nothing was stored yet. A store that
    /// exists but cannot be read or parsed is an error, never `None`.
    fn load(&self) -> Result<Option<TokenSet>, Error>;

    /// Replaces the stored tokens, durably.
    fn save(&self, tokens: &TokenSet) -> Result<(), Error>;
}

/// A store in memory, for tests and short-lived programs.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<TokenSet>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `tokens`.
    pub fn with_tokens(tokens: TokenSet) -> Self {
        MemoryTokenStore {
            tokens: Mutex::new(Some(tokens)),
        }
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        Ok(self
            .tokens
            .lock()
            .map_or_else(|p| p.into_inner().clone(), |g| g.clone()))
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        match self.tokens.lock() {
            Ok(mut g) => *g = Some(tokens.clone()),
            Err(p) => *p.into_inner() = Some(tokens.clone()),
        }
        Ok(())
    }
}

/// The on-disk form, versioned so later formats can read old files.
#[derive(Serialize, Deserialize)]
struct FileForm {
    version: u32,
    #[serde(flatten)]
    tokens: TokenSet,
}

/// A JSON file, replaced atomically (write a temporary file beside it, fsync,
/// rename, fsync the folder) with permissions 0600.
#[derive(Debug)]
pub struct FileTokenStore {
    path: PathBuf,
    // Serialises writers within the process; across processes the atomic
    // rename keeps every reader on a whole file.
    lock: Mutex<()>,
}

impl FileTokenStore {
    /// A store at `path`. The file need not exist yet; its folder must.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokenStore {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, what: &str, e: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::TokenStore,
            format!("token store {}: {what}: {e}", self.path.display()),
        )
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == IoErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.err("cannot read", e)),
        };
        let form: FileForm = serde_json::from_slice(&bytes).map_err(|e| {
            // serde_json's message quotes a string of the wrong type, and
            // here any string may be a token: it is left out.
            self.err(
                "is corrupt (not nzpir's token file)",
                crate::error::parse_error_text(&e.to_string()),
            )
        })?;
        if form.version != 1 {
            return Err(self.err("has an unknown format version", form.version));
        }
        Ok(Some(form.tokens))
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".to_owned());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let body = serde_json::to_vec_pretty(&FileForm {
            version: 1,
            tokens: tokens.clone(),
        })
        .map_err(|e| self.err("cannot encode", e))?;

        let write = || -> std::io::Result<()> {
            let mut opts = OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(fs::Permissions::from_mode(0o600))?;
            }
            f.write_all(&body)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &self.path)?;
            // Make the rename itself durable.
            #[cfg(unix)]
            File::open(&dir)?.sync_all()?;
            Ok(())
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            self.err("cannot write", e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(n: u32) -> TokenSet {
        TokenSet {
            access_token: Secret::new(format!("access-{n}")),
            refresh_token: Some(Secret::new(format!("refresh-{n}"))),
            expires_at: 1_700_000_000 + i64::from(n),
            scope: Some("MYIR.Services".into()),
        }
    }

    #[test]
    fn file_store_round_trip_and_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileTokenStore::new(dir.path().join("tokens.json"));
        assert_eq!(store.load().expect("load"), None);
        store.save(&tokens(1)).expect("save");
        store.save(&tokens(2)).expect("save");
        assert_eq!(store.load().expect("load"), Some(tokens(2)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["tokens.json"]);
    }

    #[test]
    fn corrupt_file_is_an_error_not_an_empty_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.json");
        fs::write(&path, b"{\"access_token\": \"half").expect("write");
        let err = FileTokenStore::new(&path).load().expect_err("corrupt");
        assert_eq!(err.kind(), ErrorKind::TokenStore);
        assert!(err.to_string().contains("corrupt"), "{err}");
        assert!(!err.to_string().contains("half"), "{err}");
        // The file is left alone for a person to look at.
        assert_eq!(fs::read(&path).expect("read"), b"{\"access_token\": \"half");
    }

    #[test]
    fn corrupt_file_errors_do_not_quote_tokens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.json");
        fs::write(
            &path,
            br#"{"version":1,"tokens":"rt-sekrit-refresh-token"}"#,
        )
        .expect("write");
        let err = FileTokenStore::new(&path).load().expect_err("corrupt");
        assert_eq!(err.kind(), ErrorKind::TokenStore);
        assert!(!err.to_string().contains("sekrit"), "{err}");
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A folder where the file should be cannot be read as a file.
        let path = dir.path().join("tokens.json");
        fs::create_dir(&path).expect("mkdir");
        let err = FileTokenStore::new(&path).load().expect_err("unreadable");
        assert_eq!(err.kind(), ErrorKind::TokenStore);
    }

    #[test]
    fn debug_hides_tokens() {
        let dbg = format!("{:?}", tokens(7));
        assert!(
            !dbg.contains("access-7") && !dbg.contains("refresh-7"),
            "{dbg}"
        );
    }
}
