//! Applying a caller's data scope to store filters, so a regional manager sees their region
//! only, in lists as in metrics (DESIGN: scopes are applied in the store query, never filtered
//! afterwards).

use escucha_analytics::Dimension;
use escucha_core::access::{DIM_OWNER, DIM_REGION, DIM_TEAM, DataScope, restriction};
use escucha_core::values::Email;
use escucha_store::{CaseFilter, ResponseFilter};

/// The metric-index restriction of a scope: region, team (of the response's context) or owner
/// (the customer's account executive). An unknown dimension selects nothing rather than
/// everything.
pub fn index_restriction(scope: &DataScope) -> Vec<(Dimension, Vec<String>)> {
    restriction(scope)
        .into_iter()
        .map(|(dim, values)| match dim {
            DIM_REGION => (Dimension::Region, values),
            DIM_TEAM => (Dimension::Team, values),
            DIM_OWNER => (Dimension::Owner, values),
            _ => (Dimension::Region, Vec::new()),
        })
        .collect()
}

/// Narrows a case filter to a scope: a case is in a region through its customer and in a team
/// through its owner (the account executive's team).
pub fn scope_case_filter(scope: &DataScope, mut filter: CaseFilter) -> CaseFilter {
    match scope {
        DataScope::Organisation => {}
        DataScope::Regions(regions) => filter.regions = Some(regions.clone()),
        DataScope::Teams(teams) => filter.teams = Some(teams.clone()),
        DataScope::OwnAccounts(owner) => match (Email::parse(owner), &filter.owner_email) {
            (Ok(own), None) => filter.owner_email = Some(own),
            (Ok(own), Some(asked)) if *asked == own => {}
            // Asking for someone else's cases, or an unusable owner: nothing.
            _ => filter.regions = Some(Vec::new()),
        },
    }
    filter
}

/// Narrows a response export to a scope: regions and teams of the response's context, or the
/// customer's owner.
pub fn scope_response_filter(scope: &DataScope, mut filter: ResponseFilter) -> ResponseFilter {
    match scope {
        DataScope::Organisation => {}
        DataScope::Regions(regions) => filter.regions = Some(regions.clone()),
        DataScope::Teams(teams) => filter.teams = Some(teams.clone()),
        DataScope::OwnAccounts(owner) => match Email::parse(owner) {
            Ok(own) => filter.owner_email = Some(own),
            Err(_) => filter.regions = Some(Vec::new()),
        },
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_narrow_case_filters() {
        let f = scope_case_filter(&DataScope::Organisation, CaseFilter::default());
        assert_eq!(f, CaseFilter::default());
        let f = scope_case_filter(&DataScope::Regions(vec!["Norte".into()]), CaseFilter::default());
        assert_eq!(f.regions, Some(vec!["Norte".to_string()]));
        let own = DataScope::OwnAccounts("ae@x.example".into());
        let f = scope_case_filter(&own, CaseFilter::default());
        assert_eq!(f.owner_email.map(|e| e.to_string()).as_deref(), Some("ae@x.example"));
        let other = CaseFilter { owner_email: Some(Email::parse("boss@x.example").unwrap()), ..Default::default() };
        assert_eq!(scope_case_filter(&own, other).regions, Some(vec![]));
        let teams = scope_case_filter(&DataScope::Teams(vec!["T".into()]), CaseFilter::default());
        assert_eq!((teams.teams, teams.regions), (Some(vec!["T".to_string()]), None));
        assert_eq!(index_restriction(&own), vec![(Dimension::Owner, vec!["ae@x.example".to_string()])]);
    }
}
