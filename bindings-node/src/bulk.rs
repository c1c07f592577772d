//! `client.lookupMany` and `client.lookupManyIter` (wrapped in `index.js`):
//! the core's streaming batch runner (`nzpir::batch`) behind a handle whose
//! `next()` resolves with the next results in input order. The waiting runs
//! on the binding's own threads (`tasks`), never on the JavaScript thread.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use nzpir::PirRequest;
use nzpir::batch::{
    self, Answered, BatchInput, BatchOptions, BatchStream, CancelToken, Journal, Progress,
    StreamEvent,
};

use crate::args::{Fields, is_nullish};
use crate::client::{Client, request_at};
use crate::error::{ArgError, ErrorInfo, Failure, throw};
use crate::tasks::{LookupResult, Work, spawn};

/// What each request carries to its result: its IRD numbers.
type Payload = (String, Option<String>);

/// The most results one `next()` hands over.
const CHUNK: usize = 4096;

/// One request's result, in input order.
#[napi(object, use_nullable = true)]
pub struct BulkItem {
    /// The request's position in the input, from 0.
    pub index: u32,
    /// The result, when the lookup succeeded (a rate or not-found).
    pub value: Option<LookupResult>,
    /// The error, when it failed (as an nzpir error's properties).
    pub error: Option<ErrorInfo>,
}

/// How far a `lookupMany` run has got.
#[napi(object, use_nullable = true)]
pub struct BulkProgress {
    /// The number of requests.
    pub total: Option<u32>,
    /// Requests with their result, handed out in input order.
    pub done: u32,
    /// Of those, requests whose result is an error.
    pub failed: u32,
    /// Lookups made in this run (identical requests share one).
    pub lookups: u32,
    /// Requests answered from the journal of an earlier run.
    pub resumed: u32,
    /// Requests answered by an identical request's lookup.
    pub duplicates: u32,
    /// Lookups on the wire now.
    pub in_flight: u32,
    /// Milliseconds since the run started.
    pub elapsed_ms: f64,
}

fn n(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl From<Progress> for BulkProgress {
    fn from(p: Progress) -> Self {
        BulkProgress {
            total: p.total.map(n),
            done: n(p.done),
            failed: n(p.failed),
            lookups: n(p.lookups),
            resumed: n(p.resumed),
            duplicates: n(p.duplicates),
            in_flight: n(p.in_flight),
            elapsed_ms: p.elapsed.as_secs_f64() * 1000.0,
        }
    }
}

/// The next results and whether the run is over.
#[napi(object)]
pub struct BulkChunk {
    /// Results in input order (at least one unless `done`).
    pub items: Vec<BulkItem>,
    /// No more results will come (all handed out, or cancelled).
    pub done: bool,
    /// Whether the run was cancelled before the end.
    pub cancelled: bool,
    /// Progress after these results.
    pub progress: BulkProgress,
}

type Shared = Arc<Mutex<Option<BatchStream<Payload>>>>;

/// A run started by `client.startLookupMany`; use `client.lookupMany` or
/// `client.lookupManyIter` rather than this handle.
#[napi]
pub struct BulkRun {
    stream: Shared,
    cancel: CancelToken,
}

#[napi]
impl BulkRun {
    /// Resolves with the next results (waiting off the JavaScript thread).
    #[napi(ts_return_type = "Promise<BulkChunk>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, BulkChunk>> {
        spawn(
            env,
            NextChunk {
                stream: Arc::clone(&self.stream),
            },
        )
    }

    /// Stops the run: no new lookup starts; the pending `next()` resolves
    /// with `done` and `cancelled`.
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

struct NextChunk {
    stream: Shared,
}

struct Taken {
    items: Vec<Answered<Payload>>,
    finished: Option<Progress>,
    progress: Progress,
}

impl Work for NextChunk {
    type Output = Taken;
    type JsValue = BulkChunk;

    fn run(&mut self) -> std::result::Result<Taken, Failure> {
        let mut guard = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        let Some(stream) = guard.as_mut() else {
            return Ok(Taken {
                items: Vec::new(),
                finished: Some(Progress::default()),
                progress: Progress::default(),
            });
        };
        let mut items = Vec::new();
        let mut finished = None;
        loop {
            match stream.next_timeout(Duration::from_millis(200)) {
                StreamEvent::Item(a) => {
                    items.push(a);
                    while items.len() < CHUNK {
                        match stream.try_next() {
                            Some(a) => items.push(a),
                            None => break,
                        }
                    }
                    break;
                }
                StreamEvent::Pending => {}
                StreamEvent::Finished(r) => {
                    finished = Some(r?);
                    break;
                }
            }
        }
        let progress = finished.unwrap_or_else(|| stream.progress());
        if finished.is_some() {
            *guard = None;
        }
        Ok(Taken {
            items,
            finished,
            progress,
        })
    }

    fn to_js(&mut self, _: &Env, t: Taken) -> Result<BulkChunk> {
        let items = t
            .items
            .into_iter()
            .map(|a| {
                let (ird, pie) = &a.payload;
                match a.answer.to_outcome(ird, pie.as_deref()) {
                    Some(o) => BulkItem {
                        index: n(a.index),
                        value: Some(o.into()),
                        error: None,
                    },
                    None => BulkItem {
                        index: n(a.index),
                        value: None,
                        error: a.failure().map(|e| ErrorInfo::from_error(&e)),
                    },
                }
            })
            .collect();
        Ok(BulkChunk {
            items,
            done: t.finished.is_some(),
            cancelled: t.finished.is_some_and(|p| p.cancelled),
            progress: t.progress.into(),
        })
    }
}

/// `options` of `lookupMany` that the native side reads (`onProgress` and
/// `signal` are handled in `index.js`).
fn options_from(
    f: Option<&Fields<'_>>,
    total: usize,
    validate_locally: bool,
) -> std::result::Result<(BatchOptions, Option<String>), ArgError> {
    let mut o = BatchOptions {
        total_hint: Some(total),
        validate_locally,
        ..BatchOptions::default()
    };
    let Some(f) = f else {
        return Ok((o, None));
    };
    f.only(&["concurrency", "maxRps", "journal", "onProgress", "signal"])?;
    if let Some(c) = f.count("concurrency")? {
        if !(1..=batch::MAX_CONCURRENCY as u32).contains(&c) {
            return Err(ArgError::new(
                f.path_of("concurrency"),
                format!("must be 1 to {}", batch::MAX_CONCURRENCY),
            ));
        }
        o.concurrency = c as usize;
    }
    let rps_rule = || {
        ArgError::new(
            f.path_of("maxRps"),
            format!(
                "must be a number of lookups per second from {} to {}",
                batch::MIN_RPS,
                batch::MAX_RPS
            ),
        )
    };
    if let Some(v) = f.value("maxRps")? {
        if !matches!(v.get_type(), Ok(napi::ValueType::Number)) {
            return Err(rps_rule());
        }
        let r = unsafe { v.cast::<f64>() }.map_err(|_| rps_rule())?;
        o.max_rps = Some(batch::check_max_rps(r).map_err(|_| rps_rule())?);
    }
    Ok((o, f.string("journal")?))
}

#[napi]
impl Client {
    /// Starts looking up many requests; `lookupMany` and `lookupManyIter`
    /// (in `index.js`) are the ways to use it. Throws `TypeError`
    /// (`NZPIR_INVALID_ARG`) naming the request's index and field for a
    /// request of the wrong shape, before any lookup.
    #[napi(ts_args_type = "requests: LookupRequest[], options?: LookupManyOptions")]
    pub fn start_lookup_many(
        &self,
        env: Env,
        requests: Array<'_>,
        options: Option<Unknown<'_>>,
    ) -> Result<BulkRun> {
        let total = requests.len() as usize;
        let f = throw(&env, Fields::optional(options, "options"))?;
        let (opts, journal) = throw(
            &env,
            options_from(f.as_ref(), total, self.inner.validates_locally()),
        )?;
        let mut items: Vec<(Payload, BatchInput)> = Vec::with_capacity(total);
        for i in 0..requests.len() {
            let path = format!("requests[{i}]");
            let v: Unknown<'_> = requests
                .get(i)?
                .ok_or_else(|| Error::new(Status::InvalidArg, format!("`{path}` is missing")))?;
            if is_nullish(&v) {
                throw(
                    &env,
                    Err::<(), _>(ArgError::new(&path, "must be an object (got null)")),
                )?;
            }
            let req: PirRequest = throw(&env, request_at(v, &path))?;
            items.push((
                (req.ird().to_owned(), req.pie_ird().map(str::to_owned)),
                Ok(req),
            ));
        }
        let journal = match journal {
            None => None,
            Some(p) => Some(Arc::new(throw(&env, Journal::open(p, true))?)),
        };
        let cancel = CancelToken::new();
        let client = self.inner.clone();
        let stream = throw(
            &env,
            batch::stream(
                items.into_iter(),
                move |r: &PirRequest| client.lookup(r),
                opts,
                journal,
                cancel.clone(),
            ),
        )?;
        Ok(BulkRun {
            stream: Arc::new(Mutex::new(Some(stream))),
            cancel,
        })
    }
}
