//! The TLS step of the client's connections: rustls with IR's policy and a
//! client certificate that can change while the client runs (see
//! [`crate::renewal`]). ureq opens the TCP connection (through a proxy when
//! one is set); this wraps it in TLS.

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

use crate::renewal::LiveIdentity;

/// Opens TLS over the connection the previous step made.
pub(crate) struct PolicyTls {
    /// The configuration for the identity in use, and that identity's
    /// thumbprint. A renewed identity gets a configuration of its own, with
    /// its own session cache: a resumed session would carry on the old
    /// certificate, which the server took from the first handshake.
    config: ArcSwap<(String, Arc<ClientConfig>)>,
    /// Checked (at most every few seconds) before each new connection.
    identity: Option<Arc<LiveIdentity>>,
}

impl PolicyTls {
    pub(crate) fn new(config: Arc<ClientConfig>, identity: Option<Arc<LiveIdentity>>) -> Self {
        let thumbprint = identity
            .as_ref()
            .map(|i| i.current().thumbprint().to_owned())
            .unwrap_or_default();
        PolicyTls {
            config: ArcSwap::from_pointee((thumbprint, config)),
            identity,
        }
    }

    /// The configuration for the identity in use now.
    fn config(&self) -> Arc<ClientConfig> {
        let current = self.config.load();
        let Some(identity) = &self.identity else {
            return Arc::clone(&current.1);
        };
        identity.check_if_due();
        let now = identity.current();
        if now.thumbprint() == current.0 {
            return Arc::clone(&current.1);
        }
        let mut fresh = (*current.1).clone();
        fresh.resumption = rustls::client::Resumption::default();
        let fresh = Arc::new(fresh);
        self.config
            .store(Arc::new((now.thumbprint().to_owned(), Arc::clone(&fresh))));
        fresh
    }
}

impl fmt::Debug for PolicyTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyTls")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl<In: Transport> Connector<In> for PolicyTls {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(inner) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || inner.is_tls() {
            return Ok(Some(Either::A(inner)));
        }
        let config = self.config();
        let host = details
            .uri
            .host()
            .ok_or(ureq::Error::Tls("the URL has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
        let mut conn = ClientConnection::new(config, name)?;
        let mut sock = TransportAdapter::new(inner.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        Ok(Some(Either::B(TlsTransport {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            stream: StreamOwned::new(conn, sock),
        })))
    }
}

/// A TLS connection as ureq's transport.
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let out = &self.buffers.output()[..amount];
        self.stream.write_all(out)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let buf = self.buffers.input_append_buf();
        let n = self.stream.read(buf)?;
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
