//! `nzpir onboarding`: IR's PIR onboarding test plan and its report.

use crate::args::OnboardingArgs;
use crate::exit::Failure;

/// Runs `nzpir onboarding`.
pub fn run(_args: &OnboardingArgs) -> Result<u8, Failure> {
    Err(Failure::usage("onboarding: not available yet"))
}
