//! Typed identifiers, so a survey id can never be passed where a customer id is expected.
//! Ids are store-assigned 64-bit integers, unique across organisations.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organisation (tenant).
    OrgId
);
id_type!(
    /// A staff user.
    UserId
);
id_type!(
    /// A customer.
    CustomerId
);
id_type!(
    /// A survey (all its versions).
    SurveyId
);
id_type!(
    /// A journey.
    JourneyId
);
id_type!(
    /// A survey invitation.
    InvitationId
);
id_type!(
    /// A survey response; also its position in the store's commit sequence.
    ResponseId
);
id_type!(
    /// A piece of unstructured customer voice logged by staff.
    FeedbackId
);
id_type!(
    /// A closed-loop case.
    CaseId
);
id_type!(
    /// A durable background job.
    JobId
);
id_type!(
    /// An API token.
    TokenId
);
