//! The authorisation model: what a caller may do ([`Permission`], [`PermissionSet`]) and which
//! records they may see ([`DataScope`]). Pure data and functions, so the store, the analytics
//! engine and the handlers all apply the same rules, and the rules are tested here exhaustively.
//!
//! Key decisions:
//! - A role is a set of permissions. The five built-in roles ([`role_permissions`]) are fixed;
//!   an organisation may define [`CustomRole`]s as named sets.
//! - An API token's rights are its role's (or its user's) permissions *intersected* with the
//!   permissions its [`TokenScope`]s grant ([`token_permissions`]): a scope can only narrow, never
//!   widen, and a token without scopes can do nothing (fail closed).
//! - A data scope restricts rows, never columns. It is applied in the store query through
//!   [`restriction`] (and to a single record through [`allows`]); both read the same scope, so a
//!   list, a metric total and an export agree. A scope that names nothing (an empty list of
//!   regions) sees nothing, and a record lacking the restricted dimension is out of scope.
//! - Teams form a hierarchy held as data ([`TeamHierarchy`], team → parent): a team scope
//!   includes the sub-teams once expanded with [`expand_teams`]; cycles in that data are guarded.
//! - Values are compared exactly, as the store's SQL does (`region = $1`), except owner e-mails,
//!   which are compared case-insensitively (e-mails are stored lower-cased).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::org::{Role, User};

/// Why an authorisation value could not be built or an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// A permission name that is not in [`Permission::ALL`].
    #[error("unknown permission '{0}'")]
    UnknownPermission(String),
    /// A token scope name that is not in [`TokenScope::ALL`].
    #[error("unknown token scope '{0}': use read_metrics, read_data, write_responses, manage_surveys or admin")]
    UnknownTokenScope(String),
    /// A custom role name that is empty, too long, not `[a-z0-9_-]`, or a built-in role's name.
    #[error("invalid custom role name '{0}': use 1 to 40 characters a-z, 0-9, '_' or '-', not a built-in role name")]
    InvalidRoleName(String),
    /// Setting this parent would make a team its own ancestor.
    #[error("team '{team}' cannot have '{parent}' as parent: '{parent}' is '{team}' or one of its sub-teams")]
    TeamCycle {
        /// The team being moved.
        team: String,
        /// The parent asked for.
        parent: String,
    },
    /// The caller lacks a permission the action needs.
    #[error("this needs the '{0}' permission")]
    Forbidden(Permission),
}

/// One thing a caller may do. Read permissions are further limited by the caller's
/// [`DataScope`]; `manage_*` permissions cover creating, changing and deleting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Dashboards, metric queries and series, driver analysis.
    ReadMetrics,
    /// Verbatims (customer comments and logged feedback), shown redacted unless the caller
    /// also has [`Permission::ReadPersonalData`].
    ReadVerbatims,
    /// Personal data in clear: customer names, e-mails, phones, unredacted verbatims. Every
    /// view of one customer's personal data is audited.
    ReadPersonalData,
    /// Customer profiles: attributes, segment, scores (contact fields need
    /// [`Permission::ReadPersonalData`]).
    ReadCustomers,
    /// Survey and journey definitions.
    ReadSurveys,
    /// Closed-loop cases.
    ReadCases,
    /// Submit survey responses (integrations, interview mode).
    WriteResponses,
    /// Log unstructured customer voice from calls, e-mails and conversations.
    WriteFeedback,
    /// Create, update and import customers.
    WriteCustomers,
    /// Send survey invitations and reminders.
    SendInvitations,
    /// Design surveys, journeys and touchpoints.
    ManageSurveys,
    /// Alert and case rules, SLAs, escalation, promoter activation.
    ManageRules,
    /// Work cases: assign, change status, record root cause and resolution.
    ManageCases,
    /// Edit the topic taxonomy and metric targets.
    ManageTaxonomy,
    /// Detractor verbatim review: categorise verbatims and correct the classifier.
    ReviewVerbatims,
    /// Improvement initiatives and leader–customer contact plans.
    ManageInitiatives,
    /// Maturity self-assessments and their evidence.
    ManageMaturity,
    /// Digests and the communication plan; committee review packs.
    ManageDigests,
    /// Outbound webhooks and other integrations.
    ManageWebhooks,
    /// Staff users, their roles and data scopes, custom roles.
    ManageUsers,
    /// API tokens: create, list, revoke.
    ManageTokens,
    /// Read and export the audit log.
    ReadAudit,
    /// Exports (CSV, JSON, reports) within the caller's scope; a data-subject export of one
    /// customer also needs [`Permission::ReadPersonalData`].
    ExportData,
    /// Erase one customer's personal data on request.
    EraseData,
    /// Retention rules per data kind.
    ManageRetention,
    /// The data security policy and the incident register.
    ManageSecurity,
    /// Organisation settings (name, languages, mail, sign-in options).
    ManageSettings,
}

impl Permission {
    /// Every permission, in declaration order (bit order of [`PermissionSet`]).
    pub const ALL: [Permission; 27] = [
        Permission::ReadMetrics,
        Permission::ReadVerbatims,
        Permission::ReadPersonalData,
        Permission::ReadCustomers,
        Permission::ReadSurveys,
        Permission::ReadCases,
        Permission::WriteResponses,
        Permission::WriteFeedback,
        Permission::WriteCustomers,
        Permission::SendInvitations,
        Permission::ManageSurveys,
        Permission::ManageRules,
        Permission::ManageCases,
        Permission::ManageTaxonomy,
        Permission::ReviewVerbatims,
        Permission::ManageInitiatives,
        Permission::ManageMaturity,
        Permission::ManageDigests,
        Permission::ManageWebhooks,
        Permission::ManageUsers,
        Permission::ManageTokens,
        Permission::ReadAudit,
        Permission::ExportData,
        Permission::EraseData,
        Permission::ManageRetention,
        Permission::ManageSecurity,
        Permission::ManageSettings,
    ];

    /// The permission's wire name (snake_case, as in serde).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadMetrics => "read_metrics",
            Permission::ReadVerbatims => "read_verbatims",
            Permission::ReadPersonalData => "read_personal_data",
            Permission::ReadCustomers => "read_customers",
            Permission::ReadSurveys => "read_surveys",
            Permission::ReadCases => "read_cases",
            Permission::WriteResponses => "write_responses",
            Permission::WriteFeedback => "write_feedback",
            Permission::WriteCustomers => "write_customers",
            Permission::SendInvitations => "send_invitations",
            Permission::ManageSurveys => "manage_surveys",
            Permission::ManageRules => "manage_rules",
            Permission::ManageCases => "manage_cases",
            Permission::ManageTaxonomy => "manage_taxonomy",
            Permission::ReviewVerbatims => "review_verbatims",
            Permission::ManageInitiatives => "manage_initiatives",
            Permission::ManageMaturity => "manage_maturity",
            Permission::ManageDigests => "manage_digests",
            Permission::ManageWebhooks => "manage_webhooks",
            Permission::ManageUsers => "manage_users",
            Permission::ManageTokens => "manage_tokens",
            Permission::ReadAudit => "read_audit",
            Permission::ExportData => "export_data",
            Permission::EraseData => "erase_data",
            Permission::ManageRetention => "manage_retention",
            Permission::ManageSecurity => "manage_security",
            Permission::ManageSettings => "manage_settings",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Result<Self, AccessError> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| AccessError::UnknownPermission(raw.to_string()))
    }

    fn bit(self) -> u64 {
        1u64 << (self as u32)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions: a bit set, cheap to copy and intersect on every request. Serialised as
/// the sorted list of permission names.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "Vec<Permission>", from = "Vec<Permission>")]
pub struct PermissionSet(u64);

impl PermissionSet {
    /// No permission at all.
    pub const EMPTY: PermissionSet = PermissionSet(0);

    /// Every permission.
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    /// The set of the given permissions.
    pub fn of(permissions: &[Permission]) -> Self {
        permissions.iter().copied().collect()
    }

    /// True when `permission` is in the set.
    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// True when every permission of `other` is in the set.
    pub fn contains_all(self, other: PermissionSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// Adds a permission.
    pub fn insert(&mut self, permission: Permission) {
        self.0 |= permission.bit();
    }

    /// Removes a permission.
    pub fn remove(&mut self, permission: Permission) {
        self.0 &= !permission.bit();
    }

    /// Permissions in either set.
    pub fn union(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 | other.0)
    }

    /// Permissions in both sets.
    pub fn intersection(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 & other.0)
    }

    /// True when the set holds no permission.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of permissions in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The permissions, in [`Permission::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// `Ok` when `permission` is in the set, else [`AccessError::Forbidden`] naming it.
    pub fn require(self, permission: Permission) -> Result<(), AccessError> {
        if self.contains(permission) { Ok(()) } else { Err(AccessError::Forbidden(permission)) }
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

impl From<Vec<Permission>> for PermissionSet {
    fn from(list: Vec<Permission>) -> Self {
        list.into_iter().collect()
    }
}

impl From<PermissionSet> for Vec<Permission> {
    fn from(set: PermissionSet) -> Self {
        set.iter().collect()
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Permission::as_str)).finish()
    }
}

/// The permissions of a built-in role.
///
/// - `admin`: everything.
/// - `analyst`: designs the programme and reads all data *without* personal data in clear
///   (data minimisation: analytics runs on redacted text), exports reports.
/// - `manager`: leads a region or team: reads everything in scope including personal data,
///   works and escalates cases, reviews detractors, owns initiatives, exports their scope.
/// - `agent`: front-line: reads their scope including personal data (to call customers back),
///   works cases, logs feedback and interviews.
/// - `viewer`: dashboards, redacted verbatims and survey definitions only.
pub fn role_permissions(role: Role) -> PermissionSet {
    use Permission::*;
    match role {
        Role::Admin => PermissionSet::all(),
        Role::Analyst => PermissionSet::of(&[
            ReadMetrics,
            ReadVerbatims,
            ReadCustomers,
            ReadSurveys,
            ReadCases,
            WriteResponses,
            WriteFeedback,
            WriteCustomers,
            SendInvitations,
            ManageSurveys,
            ManageRules,
            ManageTaxonomy,
            ReviewVerbatims,
            ManageInitiatives,
            ManageMaturity,
            ManageDigests,
            ManageWebhooks,
            ExportData,
        ]),
        Role::Manager => PermissionSet::of(&[
            ReadMetrics,
            ReadVerbatims,
            ReadPersonalData,
            ReadCustomers,
            ReadSurveys,
            ReadCases,
            WriteResponses,
            WriteFeedback,
            WriteCustomers,
            SendInvitations,
            ManageCases,
            ReviewVerbatims,
            ManageInitiatives,
            ExportData,
        ]),
        Role::Agent => PermissionSet::of(&[
            ReadMetrics,
            ReadVerbatims,
            ReadPersonalData,
            ReadCustomers,
            ReadSurveys,
            ReadCases,
            WriteResponses,
            WriteFeedback,
            WriteCustomers,
            SendInvitations,
            ManageCases,
        ]),
        Role::Viewer => PermissionSet::of(&[ReadMetrics, ReadVerbatims, ReadSurveys]),
    }
}

/// The longest custom role name.
pub const MAX_ROLE_NAME: usize = 40;

/// An organisation-defined role: a name and the permissions it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CustomRoleWire", deny_unknown_fields)]
pub struct CustomRole {
    name: String,
    /// What the role is for, shown to admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The permissions the role grants.
    pub permissions: PermissionSet,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomRoleWire {
    name: String,
    #[serde(default)]
    description: Option<String>,
    permissions: PermissionSet,
}

impl TryFrom<CustomRoleWire> for CustomRole {
    type Error = AccessError;

    fn try_from(w: CustomRoleWire) -> Result<Self, Self::Error> {
        let mut role = CustomRole::new(&w.name, w.permissions)?;
        role.description = w.description;
        Ok(role)
    }
}

impl CustomRole {
    /// A custom role; the name must be 1 to [`MAX_ROLE_NAME`] characters of `a-z 0-9 _ -` and
    /// must not be a built-in role's name (so a stored role name is never ambiguous).
    pub fn new(name: &str, permissions: PermissionSet) -> Result<Self, AccessError> {
        let valid = !name.is_empty()
            && name.len() <= MAX_ROLE_NAME
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            && Role::parse(name).is_err();
        if !valid {
            return Err(AccessError::InvalidRoleName(name.to_string()));
        }
        Ok(CustomRole { name: name.to_string(), description: None, permissions })
    }

    /// The role's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The role a user or token holds as stored: a built-in role or an organisation's custom role,
/// by name. Serialised as the plain name (`"manager"`, `"auditor"`); built-in names win, and
/// [`CustomRole::new`] refuses them, so a name is never ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RoleRef {
    /// One of the five built-in roles.
    Builtin(Role),
    /// A custom role of the organisation, by name.
    Custom(String),
}

impl RoleRef {
    /// Parses a stored or submitted role name.
    pub fn parse(raw: &str) -> Result<Self, AccessError> {
        match Role::parse(raw) {
            Ok(role) => Ok(RoleRef::Builtin(role)),
            Err(_) => CustomRole::new(raw, PermissionSet::EMPTY).map(|r| RoleRef::Custom(r.name)),
        }
    }

    /// The role's name.
    pub fn as_str(&self) -> &str {
        match self {
            RoleRef::Builtin(role) => role.as_str(),
            RoleRef::Custom(name) => name,
        }
    }

    /// The role's permissions, looking custom roles up in the organisation's `custom` roles.
    /// A custom role that no longer exists grants nothing (fail closed).
    pub fn permissions(&self, custom: &[CustomRole]) -> PermissionSet {
        match self {
            RoleRef::Builtin(role) => role_permissions(*role),
            RoleRef::Custom(name) => {
                custom.iter().find(|r| r.name == *name).map_or(PermissionSet::EMPTY, |r| r.permissions)
            }
        }
    }
}

impl From<Role> for RoleRef {
    fn from(role: Role) -> Self {
        RoleRef::Builtin(role)
    }
}

impl TryFrom<String> for RoleRef {
    type Error = AccessError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        RoleRef::parse(&raw)
    }
}

impl From<RoleRef> for String {
    fn from(role: RoleRef) -> Self {
        role.as_str().to_string()
    }
}

impl fmt::Display for RoleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API token may be used for, chosen when it is created. A token's effective
/// permissions are its role's permissions intersected with the union of its scopes'
/// ([`token_permissions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Metric queries and the survey definitions needed to ask them (dashboards, BI tools).
    ReadMetrics,
    /// Read verbatims, customers and cases (pulling insights and cases into a CRM).
    ReadData,
    /// Push responses, feedback, customers and invitations (CRM and ticketing integrations).
    WriteResponses,
    /// Create and change surveys and journeys.
    ManageSurveys,
    /// Everything the token's role allows.
    Admin,
}

impl TokenScope {
    /// Every token scope.
    pub const ALL: [TokenScope; 5] = [
        TokenScope::ReadMetrics,
        TokenScope::ReadData,
        TokenScope::WriteResponses,
        TokenScope::ManageSurveys,
        TokenScope::Admin,
    ];

    /// The scope's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::ReadMetrics => "read_metrics",
            TokenScope::ReadData => "read_data",
            TokenScope::WriteResponses => "write_responses",
            TokenScope::ManageSurveys => "manage_surveys",
            TokenScope::Admin => "admin",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Result<Self, AccessError> {
        TokenScope::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| AccessError::UnknownTokenScope(raw.to_string()))
    }

    /// Parses a comma-separated list (`read_metrics,write_responses`), as the CLI takes it;
    /// blanks around names are ignored, duplicates removed.
    pub fn parse_list(raw: &str) -> Result<Vec<TokenScope>, AccessError> {
        let set: BTreeSet<TokenScope> =
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(TokenScope::parse).collect::<Result<_, _>>()?;
        Ok(set.into_iter().collect())
    }

    /// The permissions this scope can grant (before intersecting with the role).
    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            TokenScope::ReadMetrics => PermissionSet::of(&[ReadMetrics, ReadSurveys]),
            TokenScope::ReadData => PermissionSet::of(&[
                ReadMetrics,
                ReadSurveys,
                ReadVerbatims,
                ReadCustomers,
                ReadCases,
                ReadPersonalData,
            ]),
            TokenScope::WriteResponses => {
                PermissionSet::of(&[ReadSurveys, WriteResponses, WriteFeedback, WriteCustomers, SendInvitations])
            }
            TokenScope::ManageSurveys => PermissionSet::of(&[ReadSurveys, ManageSurveys]),
            TokenScope::Admin => PermissionSet::all(),
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token's effective permissions: `role` (the built-in or custom role's set, or the acting
/// user's) intersected with everything its `scopes` grant. No scopes: no permission.
pub fn token_permissions(role: PermissionSet, scopes: &[TokenScope]) -> PermissionSet {
    let granted = scopes.iter().fold(PermissionSet::EMPTY, |acc, s| acc.union(s.permissions()));
    role.intersection(granted)
}

/// Which records a caller may see: the whole organisation, or only records of some regions,
/// some teams (with their sub-teams once [`expand_teams`] ran), or customers they own.
/// Serialised as `{"kind": "regions", "values": ["Norte"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "values", rename_all = "snake_case")]
pub enum DataScope {
    /// Every record of the organisation.
    Organisation,
    /// Records whose region is one of these.
    Regions(Vec<String>),
    /// Records whose team is one of these.
    Teams(Vec<String>),
    /// Records of customers whose owner (account executive) has this e-mail.
    OwnAccounts(String),
}

impl DataScope {
    /// True for the unrestricted scope.
    pub fn is_organisation(&self) -> bool {
        matches!(self, DataScope::Organisation)
    }
}

/// Dimension name of a region restriction, as returned by [`restriction`].
pub const DIM_REGION: &str = "region";
/// Dimension name of a team restriction.
pub const DIM_TEAM: &str = "team";
/// Dimension name of an owner (account executive e-mail) restriction.
pub const DIM_OWNER: &str = "owner";

/// The scope a user has by default, from their role and record (API.md "Data scope"):
/// admins and analysts see the whole organisation; anyone else with a region sees that region,
/// otherwise with a team that team (and its sub-teams, after [`expand_teams`]); an agent with
/// neither sees their own accounts; a manager or viewer with neither, the organisation.
/// The region wins over the team when both are set (a regional lead's own team is usually a
/// head-office team); an explicit restriction ([`user_scope`]) overrides all of this.
pub fn default_scope(role: Role, email: &str, region: Option<&str>, team: Option<&str>) -> DataScope {
    let nonblank = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    match role {
        Role::Admin | Role::Analyst => DataScope::Organisation,
        Role::Manager | Role::Agent | Role::Viewer => match (nonblank(region), nonblank(team)) {
            (Some(r), _) => DataScope::Regions(vec![r]),
            (None, Some(t)) => DataScope::Teams(vec![t]),
            (None, None) if role == Role::Agent => DataScope::OwnAccounts(email.trim().to_lowercase()),
            (None, None) => DataScope::Organisation,
        },
    }
}

/// A user's scope: the explicit restriction stored for them when there is one (this is how an
/// admin or analyst is restricted, or an agent limited to own accounts), else
/// [`default_scope`] from the user record.
pub fn user_scope(user: &User, explicit: Option<&DataScope>) -> DataScope {
    match explicit {
        Some(scope) => scope.clone(),
        None => default_scope(
            user.role,
            user.email.as_str(),
            user.region.as_ref().map(|r| r.as_str()),
            user.team.as_ref().map(|t| t.as_str()),
        ),
    }
}

/// A user's permissions: those of their custom role when they hold one (a custom role that no
/// longer exists grants nothing), else those of their built-in role.
pub fn user_permissions(user: &User, custom: &[CustomRole]) -> PermissionSet {
    match &user.custom_role {
        Some(name) => RoleRef::Custom(name.clone()).permissions(custom),
        None => role_permissions(user.role),
    }
}

/// The organisation's team hierarchy: each team's parent team. Kept as data (from the users'
/// and customers' teams and an admin-edited tree), serialised as a `{team: parent}` map.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TeamHierarchy {
    parents: BTreeMap<String, String>,
}

impl TeamHierarchy {
    /// An empty hierarchy: every team stands alone.
    pub fn new() -> Self {
        Self::default()
    }

    /// A hierarchy from `(team, parent)` pairs; a later pair for the same team wins.
    pub fn from_pairs<I, T, P>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (T, P)>,
        T: Into<String>,
        P: Into<String>,
    {
        let mut h = Self::new();
        for (t, p) in pairs {
            h.set_parent(t, p);
        }
        h
    }

    /// Sets (or replaces) a team's parent.
    pub fn set_parent(&mut self, team: impl Into<String>, parent: impl Into<String>) {
        self.parents.insert(team.into(), parent.into());
    }

    /// Fails when making `parent` the parent of `team` would create a cycle (the parent is the
    /// team itself or below it), so the stored tree stays a tree.
    pub fn check_parent(&self, team: &str, parent: &str) -> Result<(), AccessError> {
        if self.with_descendants(team).contains(parent) {
            return Err(AccessError::TeamCycle { team: team.to_string(), parent: parent.to_string() });
        }
        Ok(())
    }

    /// A team's parent, if it has one.
    pub fn parent(&self, team: &str) -> Option<&str> {
        self.parents.get(team).map(String::as_str)
    }

    /// The team and every team below it, at any depth. Terminates on cyclic data (each team is
    /// visited once), so a bad edit cannot hang a request.
    pub fn with_descendants(&self, team: &str) -> BTreeSet<String> {
        let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (child, parent) in &self.parents {
            children.entry(parent.as_str()).or_default().push(child.as_str());
        }
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack = vec![team];
        while let Some(t) = stack.pop() {
            if seen.insert(t)
                && let Some(kids) = children.get(t)
            {
                stack.extend(kids.iter().copied().filter(|k| !seen.contains(k)));
            }
        }
        seen.into_iter().map(str::to_string).collect()
    }
}

/// The scope with every team's sub-teams added (sorted, without duplicates); other scopes are
/// returned unchanged. Apply it before [`restriction`] and [`allows`]: an unexpanded team scope
/// only sees less, never more.
pub fn expand_teams(scope: &DataScope, hierarchy: &TeamHierarchy) -> DataScope {
    match scope {
        DataScope::Teams(teams) => {
            let all: BTreeSet<String> = teams.iter().flat_map(|t| hierarchy.with_descendants(t)).collect();
            DataScope::Teams(all.into_iter().collect())
        }
        other => other.clone(),
    }
}

/// The row filter a scope means, for the store and the analytics engine to apply: each entry is
/// a dimension ([`DIM_REGION`], [`DIM_TEAM`] or [`DIM_OWNER`]) and the values a record's
/// dimension must be one of; entries combine with AND. No entry: no restriction. An entry with
/// no values matches no record (write it as `FALSE`, not `IN ()`).
pub fn restriction(scope: &DataScope) -> Vec<(&'static str, Vec<String>)> {
    match scope {
        DataScope::Organisation => Vec::new(),
        DataScope::Regions(r) => vec![(DIM_REGION, r.clone())],
        DataScope::Teams(t) => vec![(DIM_TEAM, t.clone())],
        DataScope::OwnAccounts(owner) => vec![(DIM_OWNER, vec![owner.trim().to_lowercase()])],
    }
}

/// Whether one record, with its region, team and owner e-mail (when it has them), is inside
/// the scope. A record without the restricted dimension is outside any restricted scope.
pub fn allows(
    scope: &DataScope,
    record_region: Option<&str>,
    record_team: Option<&str>,
    record_owner: Option<&str>,
) -> bool {
    match scope {
        DataScope::Organisation => true,
        DataScope::Regions(regions) => record_region.is_some_and(|r| regions.iter().any(|x| x == r)),
        DataScope::Teams(teams) => record_team.is_some_and(|t| teams.iter().any(|x| x == t)),
        DataScope::OwnAccounts(owner) => record_owner.is_some_and(|o| o.trim().eq_ignore_ascii_case(owner.trim())),
    }
}

/// What one caller may do and see, resolved once per request (role or token permissions and
/// the expanded data scope), so handlers ask one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Effective permissions.
    pub permissions: PermissionSet,
    /// Effective data scope, teams already expanded.
    pub scope: DataScope,
}

impl Access {
    /// Resolves permissions and scope, expanding teams with `hierarchy`.
    pub fn new(permissions: PermissionSet, scope: &DataScope, hierarchy: &TeamHierarchy) -> Self {
        Access { permissions, scope: expand_teams(scope, hierarchy) }
    }

    /// `Ok` when the caller has `permission`, else [`AccessError::Forbidden`].
    pub fn require(&self, permission: Permission) -> Result<(), AccessError> {
        self.permissions.require(permission)
    }

    /// True when the caller may see personal data in clear (else show it redacted).
    pub fn sees_personal_data(&self) -> bool {
        self.permissions.contains(Permission::ReadPersonalData)
    }

    /// Whether one record is in the caller's scope (see [`allows`]).
    pub fn allows(&self, region: Option<&str>, team: Option<&str>, owner: Option<&str>) -> bool {
        allows(&self.scope, region, team, owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OrgId, UserId};
    use crate::values::{Email, Label};

    fn regions(v: &[&str]) -> DataScope {
        DataScope::Regions(v.iter().map(|s| s.to_string()).collect())
    }

    fn teams(v: &[&str]) -> DataScope {
        DataScope::Teams(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn permission_names_round_trip_and_are_unique() {
        let mut names = HashSet::new();
        for p in Permission::ALL {
            assert!(names.insert(p.as_str()), "duplicate name {p}");
            assert_eq!(Permission::parse(p.as_str()), Ok(p));
            assert_eq!(serde_json::to_value(p).unwrap(), serde_json::json!(p.as_str()));
        }
        assert_eq!(Permission::parse("root"), Err(AccessError::UnknownPermission("root".into())));
        assert!(Permission::ALL.len() <= 64, "the bit set holds at most 64 permissions");
    }

    #[test]
    fn permission_sets_behave_like_sets() {
        let a = PermissionSet::of(&[Permission::ReadMetrics, Permission::ReadCases]);
        let b = PermissionSet::of(&[Permission::ReadCases, Permission::ManageCases]);
        assert_eq!(a.union(b).len(), 3);
        assert_eq!(a.intersection(b), PermissionSet::of(&[Permission::ReadCases]));
        assert!(a.contains(Permission::ReadMetrics) && !a.contains(Permission::ManageCases));
        assert!(a.union(b).contains_all(a) && !a.contains_all(b));
        let mut c = a;
        c.remove(Permission::ReadMetrics);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![Permission::ReadCases]);
        assert!(PermissionSet::EMPTY.is_empty());
        assert_eq!(PermissionSet::all().len(), Permission::ALL.len());
        assert_eq!(a.require(Permission::ManageCases), Err(AccessError::Forbidden(Permission::ManageCases)));
        assert_eq!(a.require(Permission::ReadCases), Ok(()));
    }

    #[test]
    fn permission_sets_serialise_as_name_lists() {
        let a = PermissionSet::of(&[Permission::ReadCases, Permission::ReadMetrics]);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"["read_metrics","read_cases"]"#);
        assert_eq!(serde_json::from_str::<PermissionSet>(&json).unwrap(), a);
        assert!(serde_json::from_str::<PermissionSet>(r#"["read_metrics","fly"]"#).is_err());
        assert_eq!(format!("{a:?}"), r#"{"read_metrics", "read_cases"}"#);
    }

    #[test]
    fn builtin_roles_grant_what_their_docs_say() {
        use Permission::*;
        assert_eq!(role_permissions(Role::Admin), PermissionSet::all());
        // Only admins administer the organisation and its security.
        for p in [ManageUsers, ManageTokens, ReadAudit, EraseData, ManageRetention, ManageSecurity, ManageSettings] {
            for role in Role::ALL {
                assert_eq!(role_permissions(role).contains(p), role == Role::Admin, "{role:?} {p}");
            }
        }
        // Everyone reads metrics and survey definitions.
        for role in Role::ALL {
            assert!(role_permissions(role).contains_all(PermissionSet::of(&[ReadMetrics, ReadSurveys])));
        }
        // Analysts design but see personal data redacted; managers and agents call customers.
        let analyst = role_permissions(Role::Analyst);
        assert!(
            analyst.contains(ManageSurveys) && analyst.contains(ManageRules) && !analyst.contains(ReadPersonalData)
        );
        assert!(role_permissions(Role::Manager).contains(ReadPersonalData));
        assert!(role_permissions(Role::Agent).contains(ReadPersonalData));
        assert!(!role_permissions(Role::Manager).contains(ManageSurveys));
        assert!(
            role_permissions(Role::Agent).contains(ManageCases) && !role_permissions(Role::Agent).contains(ExportData)
        );
        // Viewers only read; every other role writes data (matches Role::can_write_data).
        let viewer = role_permissions(Role::Viewer);
        assert_eq!(viewer, PermissionSet::of(&[ReadMetrics, ReadVerbatims, ReadSurveys]));
        for role in Role::ALL {
            assert_eq!(role_permissions(role).contains(WriteResponses), role.can_write_data(), "{role:?}");
            assert_eq!(role_permissions(role).contains(ManageSurveys), role.can_manage(), "{role:?}");
        }
        // Roles form a chain of trust: agent within manager within admin.
        assert!(role_permissions(Role::Manager).contains_all(role_permissions(Role::Agent)));
        assert!(role_permissions(Role::Manager).contains_all(viewer));
    }

    #[test]
    fn custom_roles_validate_names_and_round_trip() {
        let perms = PermissionSet::of(&[Permission::ReadMetrics, Permission::ReadAudit]);
        let mut role = CustomRole::new("auditor", perms).unwrap();
        role.description = Some("Reads the audit log".into());
        assert_eq!(role.name(), "auditor");
        let json = serde_json::to_value(&role).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"name": "auditor", "description": "Reads the audit log", "permissions": ["read_metrics", "read_audit"]})
        );
        assert_eq!(serde_json::from_value::<CustomRole>(json).unwrap(), role);
        for bad in ["", "Auditor", "admin", "viewer", "a b", "x/y", &"a".repeat(41)] {
            assert_eq!(CustomRole::new(bad, perms), Err(AccessError::InvalidRoleName(bad.to_string())));
        }
        assert!(serde_json::from_value::<CustomRole>(serde_json::json!({"name": "admin", "permissions": []})).is_err());
        assert!(
            serde_json::from_value::<CustomRole>(serde_json::json!({"name": "x", "permissions": [], "extra": 1}))
                .is_err()
        );
        assert!(CustomRole::new(&"a".repeat(40), perms).is_ok());
    }

    #[test]
    fn role_refs_name_builtin_or_custom_roles() {
        let auditor = CustomRole::new("auditor", PermissionSet::of(&[Permission::ReadAudit])).unwrap();
        let custom = vec![auditor.clone()];
        assert_eq!(RoleRef::parse("manager"), Ok(RoleRef::Builtin(Role::Manager)));
        assert_eq!(RoleRef::parse("auditor"), Ok(RoleRef::Custom("auditor".into())));
        assert_eq!(RoleRef::parse("Not A Role"), Err(AccessError::InvalidRoleName("Not A Role".into())));
        assert_eq!(RoleRef::from(Role::Viewer).permissions(&custom), role_permissions(Role::Viewer));
        assert_eq!(RoleRef::parse("auditor").unwrap().permissions(&custom), auditor.permissions);
        // A deleted custom role grants nothing.
        assert!(RoleRef::parse("auditor").unwrap().permissions(&[]).is_empty());
        for name in ["admin", "auditor"] {
            let r = RoleRef::parse(name).unwrap();
            assert_eq!(r.to_string(), name);
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(json, serde_json::json!(name));
            assert_eq!(serde_json::from_value::<RoleRef>(json).unwrap(), r);
        }
        assert!(serde_json::from_value::<RoleRef>(serde_json::json!("")).is_err());
    }

    #[test]
    fn token_scopes_only_narrow_the_role() {
        use Permission::*;
        let admin = role_permissions(Role::Admin);
        let viewer = role_permissions(Role::Viewer);
        // No scope: nothing.
        assert!(token_permissions(admin, &[]).is_empty());
        // The admin scope gives exactly the role, never more.
        assert_eq!(token_permissions(viewer, &[TokenScope::Admin]), viewer);
        assert_eq!(token_permissions(admin, &[TokenScope::Admin]), admin);
        // A metrics token of an admin cannot manage users or read personal data.
        let metrics = token_permissions(admin, &[TokenScope::ReadMetrics]);
        assert!(metrics.contains(ReadMetrics) && !metrics.contains(ManageUsers) && !metrics.contains(ReadPersonalData));
        // A write token of a viewer still cannot write.
        assert!(!token_permissions(viewer, &[TokenScope::WriteResponses]).contains(WriteResponses));
        // Scopes add up.
        let both = token_permissions(admin, &[TokenScope::WriteResponses, TokenScope::ManageSurveys]);
        assert!(both.contains(WriteResponses) && both.contains(ManageSurveys) && !both.contains(ReadVerbatims));
        // read_data of an analyst yields no personal data: the role does not have it.
        assert!(
            !token_permissions(role_permissions(Role::Analyst), &[TokenScope::ReadData]).contains(ReadPersonalData)
        );
        for scope in TokenScope::ALL {
            assert_eq!(TokenScope::parse(scope.as_str()), Ok(scope));
            assert!(!scope.permissions().is_empty());
            assert!(!scope.permissions().contains(ManageUsers) || scope == TokenScope::Admin);
        }
    }

    #[test]
    fn token_scope_lists_parse() {
        assert_eq!(
            TokenScope::parse_list(" write_responses, read_metrics,,read_metrics "),
            Ok(vec![TokenScope::ReadMetrics, TokenScope::WriteResponses])
        );
        assert_eq!(TokenScope::parse_list(""), Ok(vec![]));
        assert_eq!(TokenScope::parse_list("read_metrics,root"), Err(AccessError::UnknownTokenScope("root".into())));
        assert_eq!(serde_json::to_value(TokenScope::ManageSurveys).unwrap(), serde_json::json!("manage_surveys"));
    }

    #[test]
    fn default_scopes_follow_the_user_record() {
        let e = "ana@x.example";
        for role in [Role::Admin, Role::Analyst] {
            assert_eq!(default_scope(role, e, Some("Norte"), Some("Ventas")), DataScope::Organisation);
        }
        for role in [Role::Manager, Role::Agent, Role::Viewer] {
            assert_eq!(default_scope(role, e, Some("Norte"), None), regions(&["Norte"]));
            assert_eq!(default_scope(role, e, Some("Norte"), Some("Ventas")), regions(&["Norte"]));
            assert_eq!(default_scope(role, e, None, Some("Ventas")), teams(&["Ventas"]));
            assert_eq!(default_scope(role, e, Some("  "), Some("Ventas")), teams(&["Ventas"]));
        }
        assert_eq!(default_scope(Role::Agent, " Ana@X.example ", None, None), DataScope::OwnAccounts(e.into()));
        assert_eq!(default_scope(Role::Manager, e, None, None), DataScope::Organisation);
        assert_eq!(default_scope(Role::Viewer, e, None, Some("")), DataScope::Organisation);
    }

    #[test]
    fn team_parents_cannot_form_cycles() {
        let h = TeamHierarchy::from_pairs([("Norte-A", "Norte"), ("Norte", "Ventas")]);
        assert!(h.check_parent("Sur", "Ventas").is_ok());
        assert!(h.check_parent("Norte-A", "Ventas").is_ok());
        assert!(matches!(h.check_parent("Ventas", "Norte-A"), Err(AccessError::TeamCycle { .. })));
        assert!(h.check_parent("Ventas", "Ventas").is_err());
    }

    #[test]
    fn custom_roles_replace_the_built_in_permissions() {
        let mut u = user(Role::Manager, None, None);
        assert_eq!(user_permissions(&u, &[]), role_permissions(Role::Manager));
        let auditor = CustomRole::new("auditor", PermissionSet::of(&[Permission::ReadAudit])).unwrap();
        u.custom_role = Some("auditor".into());
        assert_eq!(user_permissions(&u, std::slice::from_ref(&auditor)), PermissionSet::of(&[Permission::ReadAudit]));
        // A role that was deleted grants nothing.
        assert_eq!(user_permissions(&u, &[]), PermissionSet::EMPTY);
    }

    fn user(role: Role, region: Option<&str>, team: Option<&str>) -> User {
        User {
            id: UserId(1),
            org_id: OrgId(1),
            email: Email::parse("gerente.norte@conecta.example").unwrap(),
            name: None,
            role,
            manager_email: None,
            team: team.map(|t| Label::parse(t).unwrap()),
            region: region.map(|r| Label::parse(r).unwrap()),
            custom_role: None,
            scope: None,
        }
    }

    #[test]
    fn regional_manager_of_norte_sees_norte_only() {
        let manager = user(Role::Manager, Some("Norte"), None);
        let scope = user_scope(&manager, None);
        assert_eq!(scope, regions(&["Norte"]));
        assert_eq!(restriction(&scope), vec![("region", vec!["Norte".to_string()])]);
        assert!(allows(&scope, Some("Norte"), Some("Ventas"), Some("x@y.example")));
        assert!(!allows(&scope, Some("Sur"), Some("Ventas"), Some("x@y.example")));
        assert!(!allows(&scope, Some("norte"), None, None), "values compare exactly, as in SQL");
        assert!(!allows(&scope, None, Some("Ventas"), None), "a record without a region is out of scope");
        let access = Access::new(role_permissions(Role::Manager), &scope, &TeamHierarchy::new());
        assert!(access.allows(Some("Norte"), None, None) && !access.allows(Some("Centro"), None, None));
        assert!(access.sees_personal_data());
        assert_eq!(access.require(Permission::ManageUsers), Err(AccessError::Forbidden(Permission::ManageUsers)));
    }

    #[test]
    fn explicit_restrictions_override_the_default() {
        let analyst = user(Role::Analyst, None, None);
        assert_eq!(user_scope(&analyst, None), DataScope::Organisation);
        let restricted = regions(&["Sur", "Centro"]);
        assert_eq!(user_scope(&analyst, Some(&restricted)), restricted);
        let agent = user(Role::Agent, Some("Norte"), None);
        let own = DataScope::OwnAccounts("gerente.norte@conecta.example".into());
        assert_eq!(user_scope(&agent, Some(&own)), own);
        assert_eq!(user_scope(&agent, None), regions(&["Norte"]));
    }

    #[test]
    fn admin_sees_everything() {
        let scope = user_scope(&user(Role::Admin, Some("Norte"), Some("Ventas")), None);
        assert!(scope.is_organisation());
        assert!(restriction(&scope).is_empty());
        assert!(allows(&scope, None, None, None));
        assert!(allows(&scope, Some("Sur"), Some("Otro"), Some("z@z.example")));
    }

    #[test]
    fn own_accounts_match_the_owner_only() {
        let scope = DataScope::OwnAccounts("ana@x.example".into());
        assert!(allows(&scope, Some("Sur"), None, Some("ana@x.example")));
        assert!(allows(&scope, None, None, Some("ANA@x.example")));
        assert!(!allows(&scope, Some("Sur"), None, Some("bea@x.example")));
        assert!(!allows(&scope, Some("Sur"), None, None), "unowned customers are out of scope");
        assert_eq!(
            restriction(&DataScope::OwnAccounts(" Ana@X.example".into())),
            vec![("owner", vec!["ana@x.example".to_string()])]
        );
    }

    #[test]
    fn empty_scopes_see_nothing() {
        for scope in [regions(&[]), teams(&[])] {
            assert!(!allows(&scope, Some("Norte"), Some("Ventas"), Some("a@b.example")));
            let r = restriction(&scope);
            assert_eq!(r.len(), 1);
            assert!(r[0].1.is_empty());
        }
    }

    fn hierarchy() -> TeamHierarchy {
        // Comercial ─┬─ Ventas ── Ventas Norte ── Ventas Norte Pymes
        //            └─ Cuentas clave
        // Soporte (alone)
        TeamHierarchy::from_pairs([
            ("Ventas", "Comercial"),
            ("Cuentas clave", "Comercial"),
            ("Ventas Norte", "Ventas"),
            ("Ventas Norte Pymes", "Ventas Norte"),
        ])
    }

    #[test]
    fn team_scopes_include_sub_teams() {
        let h = hierarchy();
        assert_eq!(h.parent("Ventas"), Some("Comercial"));
        assert_eq!(h.parent("Comercial"), None);
        assert_eq!(
            expand_teams(&teams(&["Comercial"]), &h),
            teams(&["Comercial", "Cuentas clave", "Ventas", "Ventas Norte", "Ventas Norte Pymes"])
        );
        assert_eq!(expand_teams(&teams(&["Ventas Norte"]), &h), teams(&["Ventas Norte", "Ventas Norte Pymes"]));
        assert_eq!(expand_teams(&teams(&["Soporte"]), &h), teams(&["Soporte"]));
        // Overlapping teams are deduplicated.
        assert_eq!(
            expand_teams(&teams(&["Ventas", "Ventas Norte"]), &h),
            teams(&["Ventas", "Ventas Norte", "Ventas Norte Pymes"])
        );
        // A manager of Ventas sees sub-teams, not the parent or siblings.
        let manager = user(Role::Manager, None, Some("Ventas"));
        let access = Access::new(role_permissions(Role::Manager), &user_scope(&manager, None), &h);
        assert!(access.allows(None, Some("Ventas Norte Pymes"), None));
        assert!(access.allows(None, Some("Ventas"), None));
        assert!(!access.allows(None, Some("Comercial"), None));
        assert!(!access.allows(None, Some("Cuentas clave"), None));
        assert_eq!(restriction(&access.scope)[0].0, "team");
        // Other scopes pass through unchanged.
        assert_eq!(expand_teams(&regions(&["Norte"]), &h), regions(&["Norte"]));
        assert_eq!(expand_teams(&DataScope::Organisation, &h), DataScope::Organisation);
    }

    #[test]
    fn team_cycles_terminate() {
        let mut h = TeamHierarchy::from_pairs([("A", "B"), ("B", "C"), ("C", "A"), ("D", "C")]);
        assert_eq!(expand_teams(&teams(&["A"]), &h), teams(&["A", "B", "C", "D"]));
        h.set_parent("E", "E");
        assert_eq!(expand_teams(&teams(&["E"]), &h), teams(&["E"]));
        // An unexpanded team scope sees less, never more.
        assert!(!allows(&teams(&["A"]), None, Some("B"), None));
    }

    #[test]
    fn scopes_and_hierarchies_serialise() {
        let s = regions(&["Norte"]);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "regions", "values": ["Norte"]}));
        assert_eq!(serde_json::from_value::<DataScope>(json).unwrap(), s);
        assert_eq!(serde_json::to_value(DataScope::Organisation).unwrap(), serde_json::json!({"kind": "organisation"}));
        let own = DataScope::OwnAccounts("a@b.example".into());
        assert_eq!(serde_json::from_value::<DataScope>(serde_json::to_value(&own).unwrap()).unwrap(), own);
        let h = hierarchy();
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(json["Ventas"], "Comercial");
        assert_eq!(serde_json::from_value::<TeamHierarchy>(json).unwrap(), h);
    }
}
