# Type stubs of the native module, checked against the compiled module by
# `python -m mypy.stubtest nzpir._native` (scripts/test.sh, stage python).
import datetime
import decimal
import os
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Protocol,
    Union,
    final,
)
from typing import Any, Dict, Iterable, List, Mapping, Optional, Protocol, Union, final

from typing_extensions import deprecated

_StrPath = Union[str, "os.PathLike[str]"]
# A PEM: a file path, or the PEM content itself as bytes.
_Pem = Union[str, "os.PathLike[str]", bytes, bytearray]
_Date = Union[datetime.date, str]
# A filing period: the year it ends (2026), or 31 March as a date.
_Period = Union[int, datetime.date, str]

class _TokenStore(Protocol):
    def load(self) -> Optional[Dict[str, Any]]: ...
    def save(self, tokens: Dict[str, Any], /) -> None: ...

__all__ = [
    "_after_fork_in_child",
    "Address",
    "BatchProgress",
    "LookupManyIterator",
    "AuthenticationError",
    "AuthorisationError",
    "AuthorizationRequest",
    "Client",
    "ConfigError",
    "DoctorCheck",
    "ConsentRequiredError",
    "GatewayTimeoutError",
    "InvalidInputError",
    "InvalidIrdError",
    "LookupResult",
    "Name",
    "NzpirError",
    "PirEstimate",
    "OAuth",
    "RateLimitedError",
    "RejectedError",
    "Sandbox",
    "SandboxError",
    "ServerError",
    "TlsError",
    "TokenSet",
    "TokenStoreError",
    "TransportError",
    "doctor",
    "__version__",
    "is_valid_ird",
    "estimate_pir",
    "mint_jwt",
    "normalise_ird",
    "normalize_ird",
    "valid_irds",
]
__version__: str

def _after_fork_in_child() -> None: ...
# Facts for estimate_pir: snake_case keys; amounts as Decimal, int or decimal str.
_Facts = Mapping[str, Any]

@final
class PirEstimate:
    @property
    def rate(self) -> Optional[decimal.Decimal]: ...
    @property
    def rule(self) -> str: ...
    @property
    def explanation(self) -> str: ...
    @property
    def missing(self) -> List[str]: ...
    @property
    def pir_year(self) -> Optional[int]: ...
    @property
    def decided_by_year(self) -> Optional[int]: ...

def estimate_pir(facts: _Facts) -> PirEstimate: ...
def is_valid_ird(s: str) -> bool: ...
def normalise_ird(s: str) -> str: ...
@deprecated("use normalise_ird()")
def normalize_ird(s: str) -> str: ...
def valid_irds(irds: Iterable[str]) -> List[bool]: ...
def doctor(
    config: _StrPath,
    *,
    ird: Optional[str] = None,
    pie_ird: Optional[str] = None,
) -> List[DoctorCheck]: ...
def mint_jwt(
    cert: _Pem,
    key: _Pem,
    *,
    issuer: str,
    alg: Optional[str] = None,
    start_logon: Optional[str] = None,
    ttl: Optional[int] = None,
    unset_start_logon: Optional[str] = None,
) -> str: ...

# Exceptions: one tree under NzpirError.
class NzpirError(Exception):
    kind: str
    ir_code: Optional[str]
    http_status: Optional[int]
    attempts: int
    setting: Optional[str]
    retryable: bool
    ir_errors: List[Dict[str, Optional[str]]]
    field_errors: List[Dict[str, str]]

class InvalidInputError(NzpirError, ValueError):
    errors: List[Dict[str, str]]

class InvalidIrdError(InvalidInputError):
    reason: str

class ConfigError(NzpirError, ValueError): ...
class TlsError(NzpirError): ...
class TransportError(NzpirError): ...
class GatewayTimeoutError(NzpirError, TimeoutError): ...
class AuthenticationError(NzpirError): ...
class AuthorisationError(NzpirError): ...
class RateLimitedError(NzpirError): ...
class RejectedError(NzpirError): ...
class ServerError(NzpirError): ...
class ConsentRequiredError(NzpirError): ...
class TokenStoreError(NzpirError): ...
class SandboxError(NzpirError): ...

@final
class Name:
    def __new__(
        cls,
        first_name: Optional[str] = None,
        last_name: Optional[str] = None,
        middle_name: Optional[str] = None,
    ) -> Name: ...
    @property
    def first_name(self) -> Optional[str]: ...
    @property
    def last_name(self) -> Optional[str]: ...
    @property
    def middle_name(self) -> Optional[str]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Address:
    def __new__(
        cls,
        street: Optional[str] = None,
        city: Optional[str] = None,
        country: Optional[str] = None,
        post_code: Optional[str] = None,
        state: Optional[str] = None,
    ) -> Address: ...
    @property
    def street(self) -> Optional[str]: ...
    @property
    def city(self) -> Optional[str]: ...
    @property
    def country(self) -> Optional[str]: ...
    @property
    def post_code(self) -> Optional[str]: ...
    @property
    def state(self) -> Optional[str]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class LookupResult:
    @property
    def rate(self) -> Optional[decimal.Decimal]: ...
    @property
    def not_found(self) -> bool: ...
    @property
    def ird(self) -> str: ...
    @property
    def pie_ird(self) -> Optional[str]: ...

@final
class BatchProgress:
    @property
    def total(self) -> Optional[int]: ...
    @property
    def read(self) -> int: ...
    @property
    def done(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def lookups(self) -> int: ...
    @property
    def resumed(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def elapsed(self) -> float: ...

@final
class LookupManyIterator:
    def __iter__(self) -> LookupManyIterator: ...
    def __next__(self) -> Union[LookupResult, NzpirError]: ...
    def close(self) -> None: ...
    @property
    def progress(self) -> Optional[BatchProgress]: ...
    def __enter__(self) -> LookupManyIterator: ...
    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool: ...

@final
class TokenSet:
    @property
    def access_token(self) -> str: ...
    @property
    def refresh_token(self) -> Optional[str]: ...
    @property
    def expires_at(self) -> int: ...
    @property
    def scope(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class AuthorizationRequest:
    @property
    def url(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def code_verifier(self) -> str: ...

@final
class OAuth:
    def authorization_request(self) -> AuthorizationRequest: ...
    def complete_authorization(
        self, request: AuthorizationRequest, redirect_url: str
    ) -> TokenSet: ...
    @deprecated("use authorization_request()")
    def start(self) -> AuthorizationRequest: ...
    @deprecated("use complete_authorization()")
    def complete(self, request: AuthorizationRequest, redirect_url: str) -> TokenSet: ...
    def refresh(self) -> TokenSet: ...
    def tokens(self) -> Optional[TokenSet]: ...
    def introspect(
        self, token: Optional[str] = None, *, kind: str = "access"
    ) -> Dict[str, Any]: ...
    def revoke(self, token: Optional[str] = None, *, kind: str = "refresh") -> None: ...

@final
class DoctorCheck:
    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def action(self) -> Optional[str]: ...
    @property
    def kind(self) -> Optional[str]: ...

@final
class Client:
    def __new__(
        cls,
        *,
        environment: Optional[str] = None,
        endpoint: Optional[str] = None,
        connection: Optional[str] = None,
        cert: Optional[_Pem] = None,
        key: Optional[_Pem] = None,
        ca: Optional[_Pem] = None,
        pkcs12: Optional[_StrPath] = None,
        pkcs12_password: Optional[str] = None,
        jwt_cert: Optional[_Pem] = None,
        jwt_key: Optional[_Pem] = None,
        jwt_pkcs12: Optional[_StrPath] = None,
        jwt_pkcs12_password: Optional[str] = None,
        jwt_alg: Optional[str] = None,
        issuer: Optional[str] = None,
        start_logon: Optional[str] = None,
        unset_start_logon: Optional[str] = None,
        jwt_ttl: Optional[int] = None,
        bearer_token: Optional[str] = None,
        oauth_client_id: Optional[str] = None,
        oauth_client_secret: Optional[str] = None,
        oauth_redirect_uri: Optional[str] = None,
        oauth_endpoint: Optional[str] = None,
        token_store: Optional[Union[_StrPath, _TokenStore]] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        retry_base_delay: Optional[float] = None,
        proxy: Optional[str] = None,
        validate_locally: Optional[bool] = None,
        max_idle_connections: Optional[int] = None,
    ) -> Client: ...
    @classmethod
    def from_config(
        cls,
        path: _StrPath,
        *,
        token_store: Optional[Union[_StrPath, _TokenStore]] = None,
    ) -> Client: ...
    def lookup(
        self,
        ird: str,
        *,
        pie_ird: Optional[str] = None,
        filing_period: Optional[_Period] = None,
        formatted_name: Optional[str] = None,
        name: Optional[Union[Name, Dict[str, Optional[str]]]] = None,
        dob: Optional[_Date] = None,
        formatted_address: Optional[str] = None,
        address: Optional[Union[Address, Dict[str, Optional[str]]]] = None,
    ) -> LookupResult: ...
    def lookup_many(
        self,
        requests: Iterable[Mapping[str, Any]],
        *,
        concurrency: int = 4,
        max_rps: Optional[float] = None,
        journal: Optional[_StrPath] = None,
        on_progress: Optional[Callable[[BatchProgress], object]] = None,
    ) -> List[Union[LookupResult, NzpirError]]: ...
    def iter_lookup_many(
        self,
        requests: Iterable[Mapping[str, Any]],
        *,
        concurrency: int = 4,
        max_rps: Optional[float] = None,
        journal: Optional[_StrPath] = None,
        on_progress: Optional[Callable[[BatchProgress], object]] = None,
    ) -> LookupManyIterator: ...
    def status(self) -> None: ...
    def reload_identity(self) -> bool: ...
    @property
    def identity_expires_at(self) -> Optional[datetime.datetime]: ...
    @property
    def identity_thumbprint(self) -> Optional[str]: ...
    def doctor(
        self, *, ird: Optional[str] = None, pie_ird: Optional[str] = None
    ) -> List[DoctorCheck]: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def user_agent(self) -> str: ...
    @property
    def auth(self) -> str: ...
    @property
    def oauth(self) -> Optional[OAuth]: ...

@final
class Sandbox:
    def __new__(
        cls,
        profile: str = "strict",
        *,
        pki_dir: Optional[_StrPath] = None,
        fixture: Optional[_StrPath] = None,
        ir003_limit: Optional[int] = None,
        access_token_ttl: Optional[int] = None,
        clock_offset: Optional[int] = None,
        expires_in_as_string: bool = False,
    ) -> Sandbox: ...
    def __enter__(self) -> Sandbox: ...
    def __exit__(self, *_args: object) -> None: ...
    def shutdown(self) -> None: ...
    @property
    def running(self) -> bool: ...
    @property
    def url(self) -> str: ...
    @property
    def oauth_url(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def manifest(self) -> Dict[str, Any]: ...
    @property
    def manifest_path(self) -> str: ...
    @property
    def config_path(self) -> str: ...
    @property
    def pki_dir(self) -> str: ...
    @property
    def ca_cert(self) -> str: ...
    @property
    def client_cert(self) -> str: ...
    @property
    def client_key(self) -> str: ...
    @property
    def unregistered_client_cert(self) -> str: ...
    @property
    def unregistered_client_key(self) -> str: ...
    @property
    def jwt_rs256_cert(self) -> str: ...
    @property
    def jwt_rs256_key(self) -> str: ...
    @property
    def jwt_ec_cert(self) -> str: ...
    @property
    def jwt_ec_key(self) -> str: ...
    @property
    def jwt_ec_alg(self) -> str: ...
    def client_kwargs(self) -> Dict[str, Any]: ...
    def client(self, **overrides: Any) -> Client: ...
    def set_fault(
        self,
        kind: str,
        *,
        times: Optional[int] = None,
        ms: Optional[int] = None,
        status: Optional[int] = None,
        secs: Optional[int] = None,
        body: Optional[str] = None,
        scope: str = "pir",
    ) -> None: ...
    def add_fault(
        self,
        kind: str,
        *,
        times: Optional[int] = None,
        ms: Optional[int] = None,
        status: Optional[int] = None,
        secs: Optional[int] = None,
        body: Optional[str] = None,
        scope: str = "pir",
    ) -> None: ...
    def clear_faults(self) -> None: ...
    def faults(self) -> List[Dict[str, Any]]: ...
    def calls_for(self, ird: str) -> int: ...
    def stats(self) -> Dict[str, Any]: ...
    def reset_stats(self) -> None: ...
    def reset_quotas(self) -> None: ...
    def set_clock_offset(self, secs: int) -> None: ...
