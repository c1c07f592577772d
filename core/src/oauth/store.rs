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
use crate::error::{Error, ErrorKind, scrub};

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

/// Every secret in it is a [`Secret`], zeroised when dropped.
impl zeroize::ZeroizeOnDrop for TokenSet {}

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
///
/// When several processes (or several clients) share one store, the token
/// source holds [`TokenStore::lock`] around every load-refresh-save, reads
/// the store again under it and adopts a grant another holder rotated, so
/// that a spent refresh token is never replayed (IR answers a replay by
/// revoking the whole grant). The default lock is none: a store shared
/// between processes should implement it ([`FileTokenStore`] does).
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored tokens, `None` when nothing was stored yet. A store that
    /// exists but cannot be read or parsed is an error, never `None`.
    fn load(&self) -> Result<Option<TokenSet>, Error>;

    /// Replaces the stored tokens, durably.
    fn save(&self, tokens: &TokenSet) -> Result<(), Error>;

    /// Takes the store's exclusive lock, across processes, and holds it
    /// until the returned guard is dropped. The default takes none.
    fn lock(&self) -> Result<StoreLock, Error> {
        Ok(StoreLock::none())
    }

    /// Called when IR rotated the grant but [`TokenStore::save`] failed: the
    /// new tokens exist only in this process. Keep them somewhere a person
    /// can restore them from and say where (e.g. a 0600 file beside the
    /// store), or return `None` (the default) when there is nowhere.
    fn rescue(&self, tokens: &TokenSet) -> Option<String> {
        let _ = tokens;
        None
    }
}

/// A held [`TokenStore::lock`]; dropping it releases the lock.
pub struct StoreLock(Option<Box<dyn Send>>);

impl StoreLock {
    /// No lock (stores used by one process only).
    pub fn none() -> Self {
        StoreLock(None)
    }

    /// A lock released when `guard` is dropped.
    pub fn held(guard: impl Send + 'static) -> Self {
        StoreLock(Some(Box::new(guard)))
    }
}

impl fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "StoreLock(held)"
        } else {
            "StoreLock(none)"
        })
    }
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

/// A JSON file, replaced atomically (write a temporary file beside it with an
/// unpredictable name, `O_EXCL|O_NOFOLLOW`, fsync, rename, fsync the folder)
/// with permissions 0600.
///
/// [`TokenStore::lock`] is an exclusive `flock` on the sibling file
/// `<name>.lock` (0600, never removed), so that every process and client on
/// the same file refreshes in turn. If a save fails after IR rotated the
/// grant, the new tokens are written to `<name>.recovery` (0600) when
/// possible.
#[derive(Debug)]
pub struct FileTokenStore {
    path: PathBuf,
    // Serialises writers within the process; across processes the atomic
    // rename keeps every reader on a whole file.
    lock: Mutex<()>,
}

/// How long [`FileTokenStore::lock`] waits for another holder.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// A random suffix for temporary files: not guessable by another local user.
fn unpredictable() -> String {
    let mut b = [0u8; 12];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // Never in practice; O_EXCL still refuses an existing name.
        b[..4].copy_from_slice(&std::process::id().to_le_bytes());
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Opens a new file for writing: it must not exist (`O_EXCL`), and a symbolic
/// link in its place is refused (`O_NOFOLLOW`); mode 0600.
pub(crate) fn create_private(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

/// Writes `body` to `path` atomically and privately: a new temporary file
/// beside it with an unpredictable name, opened with `O_EXCL|O_NOFOLLOW` and
/// mode 0600, fsync, rename over `path`, fsync of the folder. For files that
/// hold secrets (token stores, pending authorisations).
pub fn replace_private_file(path: &Path, body: &[u8]) -> std::io::Result<()> {
    replace_file(path, body)
}

/// See [`replace_private_file`].
pub(crate) fn replace_file(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tokens".to_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", unpredictable()));
    let write = || -> std::io::Result<()> {
        let mut f = create_private(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        #[cfg(unix)]
        File::open(&dir)?.sync_all()?;
        Ok(())
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
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
            format!(
                "token store {}: {what}: {e}",
                scrub(&self.path.to_string_lossy())
            ),
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
        let body = self.encode(tokens)?;
        replace_file(&self.path, &body).map_err(|e| self.err("cannot write", e))
    }

    fn lock(&self) -> Result<StoreLock, Error> {
        let path = self.sibling("lock");
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let f = opts
            .open(&path)
            .map_err(|e| self.err("cannot open its lock file", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            let started = std::time::Instant::now();
            loop {
                // SAFETY: `f` is an open file for the duration of the call.
                let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
                if r == 0 {
                    break;
                }
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EWOULDBLOCK)
                    && e.kind() != IoErrorKind::Interrupted
                {
                    return Err(self.err("cannot lock", e));
                }
                if started.elapsed() > LOCK_WAIT {
                    return Err(self.err(
                        "is locked by another process",
                        format!(
                            "waited {} s for it to finish a refresh",
                            LOCK_WAIT.as_secs()
                        ),
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        // Closing the file releases the lock.
        Ok(StoreLock::held(f))
    }

    fn rescue(&self, tokens: &TokenSet) -> Option<String> {
        let path = self.sibling("recovery");
        let body = self.encode(tokens).ok()?;
        replace_file(&path, &body).ok()?;
        Some(scrub(&path.to_string_lossy()))
    }
}

impl FileTokenStore {
    fn encode(&self, tokens: &TokenSet) -> Result<Vec<u8>, Error> {
        serde_json::to_vec_pretty(&FileForm {
            version: 1,
            tokens: tokens.clone(),
        })
        .map_err(|e| self.err("cannot encode", e))
    }

    /// `<path>.<suffix>`, beside the store.
    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".");
        name.push(suffix);
        PathBuf::from(name)
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

    #[cfg(unix)]
    #[test]
    fn private_files_refuse_links_and_existing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("elsewhere");
        fs::write(&target, b"keep").expect("write");
        // A symbolic link planted where the file is to be created.
        let link = dir.path().join("planted");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(create_private(&link).is_err());
        assert!(
            create_private(&target).is_err(),
            "O_EXCL: never an existing file"
        );
        assert_eq!(fs::read(&target).expect("read"), b"keep");
        // Temporary names are not guessable: two of them differ.
        assert_ne!(unpredictable(), unpredictable());
        assert_eq!(unpredictable().len(), 24);
        // A link in the store's place is replaced, never followed.
        let store = dir.path().join("tokens.json");
        std::os::unix::fs::symlink(&target, &store).expect("symlink");
        replace_private_file(&store, b"{}").expect("replace");
        assert_eq!(fs::read(&target).expect("read"), b"keep");
        assert!(
            !fs::symlink_metadata(&store)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
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
