//! Issues, as the lifecycle sweep uses them to reach an app's owners, and the membership reads
//! its owners-left rule needs.

/// An issue as the forge sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Its number.
    pub number: u64,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// Open (not closed).
    pub open: bool,
    /// Its labels' names.
    pub labels: Vec<String>,
    /// Who it is assigned to.
    pub assignees: Vec<String>,
    /// Who opened it.
    pub author: String,
}

/// A new issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIssue {
    /// The title.
    pub title: String,
    /// The text (it carries the marker that finds it again).
    pub body: String,
    /// Labels to set.
    pub labels: Vec<String>,
    /// Logins to assign.
    pub assignees: Vec<String>,
}

/// A change to an issue; what is `None` stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueEdit {
    /// A new text.
    pub body: Option<String>,
    /// Open (true) or close as completed (false).
    pub open: Option<bool>,
    /// The whole new set of labels.
    pub labels: Option<Vec<String>>,
    /// The whole new set of assignees.
    pub assignees: Option<Vec<String>>,
}
