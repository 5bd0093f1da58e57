//! Organisations (tenants) and staff users with their roles and place in the hierarchy.

use serde::{Deserialize, Serialize};

use crate::ids::{OrgId, UserId};
use crate::validation::ValidationErrors;
use crate::values::{Email, Label, Slug};

/// A company using Escucha. Every other record belongs to exactly one organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    /// Store id.
    pub id: OrgId,
    /// URL-safe short name, unique.
    pub slug: Slug,
    /// Display name.
    pub name: Label,
}

/// What a staff user (or a token acting as one) may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, tokens and the audit log.
    Admin,
    /// Designs surveys and reads all data.
    Analyst,
    /// Leads a region or team: sees their scope, owns escalations.
    Manager,
    /// Front-line staff: handles their own customers' cases.
    Agent,
    /// Reads dashboards only.
    Viewer,
}

impl Role {
    /// All roles, for listings and tests.
    pub const ALL: [Role; 5] = [Role::Admin, Role::Analyst, Role::Manager, Role::Agent, Role::Viewer];

    /// The role's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw).ok_or_else(|| {
            ValidationErrors::one(
                "role",
                "invalid_role",
                format!("unknown role '{raw}': use admin, analyst, manager, agent or viewer"),
            )
        })
    }

    /// May write surveys, users and configuration.
    pub fn can_manage(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }

    /// May write responses, feedback and customers (integrations, interviews).
    pub fn can_write_data(self) -> bool {
        !matches!(self, Role::Viewer)
    }

    /// May change users, tokens and read the audit log.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// A staff member: account executive, manager, analyst…
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Store id.
    pub id: UserId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Sign-in and notification address, unique within the organisation.
    pub email: Email,
    /// Display name.
    pub name: Option<Label>,
    /// What the user may do.
    pub role: Role,
    /// The user's manager, notified about their customers' cases.
    pub manager_email: Option<Email>,
    /// Team, for data scopes and reporting.
    pub team: Option<Label>,
    /// Region, for data scopes and reporting.
    pub region: Option<Label>,
    /// The organisation's custom role the user holds, by name: its permissions replace the
    /// built-in role's (which still gives the default data scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role: Option<String>,
    /// An explicit data scope that overrides the default from role, region and team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<crate::access::DataScope>,
}

/// The writable fields of a user, as given by `PUT /api/v1/users/{email}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserFields {
    /// Display name.
    pub name: Option<Label>,
    /// Role; defaults to `viewer` for a new user.
    pub role: Option<Role>,
    /// The user's manager.
    pub manager_email: Option<Email>,
    /// Team.
    pub team: Option<Label>,
    /// Region.
    pub region: Option<Label>,
    /// Custom role: `None` keeps it, `Some(None)` removes it, `Some(Some(name))` sets it.
    pub custom_role: Option<Option<String>>,
    /// Explicit data scope: `None` keeps it, `Some(None)` returns to the default scope.
    pub scope: Option<Option<crate::access::DataScope>>,
}
