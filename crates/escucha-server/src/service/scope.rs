//! Applying a caller's data scope to store filters, so a regional manager sees their region
//! only, in lists as in metrics (DESIGN: scopes are applied in the store query, never filtered
//! afterwards).

use escucha_analytics::Dimension;
use escucha_core::access::{DIM_REGION, DIM_TEAM, DataScope, restriction};
use escucha_core::values::Email;
use escucha_store::CaseFilter;

/// The metric-index restriction of a scope. A scope the index cannot express (own accounts,
/// for now: the index has no owner column) selects nothing rather than everything.
pub fn index_restriction(scope: &DataScope) -> Vec<(Dimension, Vec<String>)> {
    restriction(scope)
        .into_iter()
        .map(|(dim, values)| match dim {
            DIM_REGION => (Dimension::Region, values),
            DIM_TEAM => (Dimension::Team, values),
            _ => (Dimension::Region, Vec::new()),
        })
        .collect()
}

/// Narrows a case filter to a scope. Team scopes cannot be expressed on cases yet (a case has
/// no team), so they select nothing rather than everything.
pub fn scope_case_filter(scope: &DataScope, mut filter: CaseFilter) -> CaseFilter {
    match scope {
        DataScope::Organisation => {}
        DataScope::Regions(regions) => filter.regions = Some(regions.clone()),
        DataScope::Teams(_) => filter.regions = Some(Vec::new()),
        DataScope::OwnAccounts(owner) => match (Email::parse(owner), &filter.owner_email) {
            (Ok(own), None) => filter.owner_email = Some(own),
            (Ok(own), Some(asked)) if *asked == own => {}
            // Asking for someone else's cases, or an unusable owner: nothing.
            _ => filter.regions = Some(Vec::new()),
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
        assert_eq!(scope_case_filter(&DataScope::Teams(vec!["T".into()]), CaseFilter::default()).regions, Some(vec![]));
    }
}
