//! The routing tree as the dispatcher uses it: options inherited from parents, matchers
//! combined, and Alertmanager's depth-first matching with `continue`.

use crate::config::{Config, RouteConfig};
use crate::matchers::{LabelSource, Matchers};
use crate::values::Duration;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Options of a route after inheritance.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteOpts {
    /// Receiver name.
    pub receiver: String,
    /// Grouping labels (sorted).
    pub group_by: Vec<String>,
    /// Group by all labels (`...`).
    pub group_by_all: bool,
    /// Initial wait (30s).
    pub group_wait: Duration,
    /// Wait between updates (5m).
    pub group_interval: Duration,
    /// Repeat wait (4h).
    pub repeat_interval: Duration,
    /// Mute time interval names (not inherited, like Alertmanager).
    pub mute_time_intervals: Vec<String>,
    /// Active time interval names (not inherited).
    pub active_time_intervals: Vec<String>,
}

impl Default for RouteOpts {
    fn default() -> Self {
        RouteOpts {
            receiver: String::new(),
            group_by: Vec::new(),
            group_by_all: false,
            group_wait: Duration(30_000),
            group_interval: Duration(5 * 60_000),
            repeat_interval: Duration(4 * 3_600_000),
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
        }
    }
}

/// Index of a route in [`RouteTree::routes`]; the root is 0, then depth-first order.
pub type RouteId = usize;

/// One node of the tree.
#[derive(Debug, Clone)]
pub struct Route {
    /// This node's index.
    pub id: RouteId,
    /// Parent index (None for the root).
    pub parent: Option<RouteId>,
    /// Children, in file order.
    pub children: Vec<RouteId>,
    /// Matchers of this node (sorted).
    pub matchers: Matchers,
    /// `continue`.
    pub continue_: bool,
    /// Inherited options.
    pub opts: RouteOpts,
    /// Alertmanager's route key: parent keys and matchers joined by `/`.
    pub key: String,
    /// Alertmanager's unique route id: key plus sibling index (`{}/{a="b"}/0`).
    pub route_id: String,
}

/// The whole tree, stored flat.
#[derive(Debug, Clone)]
pub struct RouteTree {
    /// All routes; index = [`RouteId`].
    pub routes: Vec<Route>,
}

impl RouteTree {
    /// Builds from a root route config.
    pub fn new(root: &RouteConfig) -> Self {
        let mut t = RouteTree { routes: Vec::new() };
        t.add(root, None, &RouteOpts::default(), None);
        t
    }

    /// Builds from a loaded config (None when it has no route, which `load` rejects).
    pub fn from_config(cfg: &Config) -> Option<Self> {
        cfg.route.as_ref().map(RouteTree::new)
    }

    fn add(
        &mut self,
        rc: &RouteConfig,
        parent: Option<RouteId>,
        inherited: &RouteOpts,
        index: Option<usize>,
    ) -> RouteId {
        let mut opts = inherited.clone();
        if let Some(r) = rc.receiver.as_deref().filter(|r| !r.is_empty()) {
            opts.receiver = r.to_string();
        }
        if let Some(g) = &rc.group_by {
            if g.all {
                opts.group_by_all = true;
                opts.group_by.clear();
            } else {
                opts.group_by = g.labels.clone();
                opts.group_by.sort();
                opts.group_by_all = false;
            }
        }
        opts.group_wait = rc.group_wait.unwrap_or(opts.group_wait);
        opts.group_interval = rc.group_interval.unwrap_or(opts.group_interval);
        opts.repeat_interval = rc.repeat_interval.unwrap_or(opts.repeat_interval);
        opts.mute_time_intervals = rc.mute_time_intervals.clone();
        opts.active_time_intervals = rc.active_time_intervals.clone();
        let matchers = rc.all_matchers();
        let (key, route_id) = match parent {
            Some(p) => {
                let pr = &self.routes[p];
                (
                    format!("{}/{}", pr.key, matchers),
                    format!("{}/{}/{}", pr.route_id, matchers, index.unwrap_or(0)),
                )
            }
            None => (matchers.to_string(), matchers.to_string()),
        };
        let id = self.routes.len();
        self.routes.push(Route {
            id,
            parent,
            children: Vec::new(),
            matchers,
            continue_: rc.continue_,
            opts: opts.clone(),
            key,
            route_id,
        });
        for (i, c) in rc.routes.iter().enumerate() {
            let cid = self.add(c, Some(id), &opts, Some(i));
            self.routes[id].children.push(cid);
        }
        id
    }

    /// The root route.
    pub fn root(&self) -> Option<&Route> {
        self.routes.first()
    }

    /// A route by id.
    pub fn get(&self, id: RouteId) -> Option<&Route> {
        self.routes.get(id)
    }

    /// The routes an alert with `labels` is dispatched to, as Alertmanager's `Route.Match`:
    /// depth first; the first matching child wins unless it has `continue`; a matching node
    /// with no matching children is itself a result.
    pub fn match_route(&self, labels: &dyn LabelSource) -> Vec<&Route> {
        let mut out = Vec::new();
        if !self.routes.is_empty() {
            self.match_from(0, labels, &mut out);
        }
        out
    }

    fn match_from<'a>(
        &'a self,
        id: RouteId,
        labels: &dyn LabelSource,
        out: &mut Vec<&'a Route>,
    ) -> bool {
        let r = &self.routes[id];
        if !r.matchers.matches(labels) {
            return false;
        }
        let before = out.len();
        for &c in &r.children {
            let matched = self.match_from(c, labels, out);
            if matched && !self.routes[c].continue_ {
                break;
            }
        }
        if out.len() == before {
            out.push(r);
        }
        true
    }

    /// Receiver names for `labels`, in match order (what `amtool config routes test` prints,
    /// comma-joined).
    pub fn receivers_for(&self, labels: &dyn LabelSource) -> Vec<String> {
        self.match_route(labels)
            .into_iter()
            .map(|r| r.opts.receiver.clone())
            .collect()
    }

    /// Walks the matching path like `amtool --tree` and explains each step.
    pub fn explain(&self, labels: &dyn LabelSource) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.routes.is_empty() {
            self.explain_from(0, labels, 0, &mut lines);
        }
        lines
    }

    fn explain_from(
        &self,
        id: RouteId,
        labels: &dyn LabelSource,
        depth: usize,
        lines: &mut Vec<String>,
    ) {
        let r = &self.routes[id];
        let ind = "  ".repeat(depth);
        let ms: Vec<String> = r
            .matchers
            .iter()
            .map(crate::matchers::matcher_to_string)
            .collect();
        let what = if ms.is_empty() {
            "default-route (no matchers)".to_string()
        } else {
            format!("matched {}", ms.join(", "))
        };
        let mut matched_child = false;
        let mut child_lines = Vec::new();
        for &c in &r.children {
            let cr = &self.routes[c];
            if cr.matchers.matches(labels) {
                self.explain_from(c, labels, depth + 1, &mut child_lines);
                matched_child = true;
                if !cr.continue_ {
                    break;
                }
                if let Some(l) = child_lines.last_mut() {
                    l.push_str(" (continue: true, trying next sibling)");
                }
            }
        }
        let final_ = if matched_child { "" } else { " -> receiver " };
        let mut line = format!("{ind}route {} {what}", r.route_id);
        if !final_.is_empty() {
            let _ = write!(line, "{final_}{}", r.opts.receiver);
        }
        lines.push(line);
        lines.extend(child_lines);
    }
}

impl Route {
    /// The labels this route groups `labels` by.
    pub fn group_labels(&self, labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        labels
            .iter()
            .filter(|(k, _)| self.opts.group_by_all || self.opts.group_by.iter().any(|g| g == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Alertmanager's aggregation-group key: `<route key>:<group labels>`, e.g.
    /// `{}/{severity="critical"}:{alertname="X"}`.
    pub fn group_key(&self, labels: &BTreeMap<String, String>) -> String {
        format!(
            "{}:{}",
            self.key,
            label_set_string(&self.group_labels(labels))
        )
    }
}

/// Formats a label set like Prometheus' `model.LabelSet.String()`: `{a="b", c="d"}`.
pub fn label_set_string(ls: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = ls
        .iter()
        .map(|(k, v)| format!("{k}={}", watchfire_model::go_quote(v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// The `amtool config routes show` tree body (after the "Routing tree:" header).
pub fn render_tree(tree: &RouteTree) -> String {
    let mut s = String::from(".\n");
    if tree.routes.is_empty() {
        return s;
    }
    render_node(tree, 0, "", true, &mut s, &|r: &Route| slug(r, true, true));
    s
}

fn slug(r: &Route, show_continue: bool, show_receiver: bool) -> String {
    let mut s = if r.matchers.is_empty() {
        "default-route".to_string()
    } else {
        r.matchers.to_string()
    };
    if r.continue_ && show_continue {
        s.push_str("  continue: true");
    }
    if show_receiver {
        let _ = write!(s, "  receiver: {}", r.opts.receiver);
    }
    s
}

fn render_node(
    tree: &RouteTree,
    id: RouteId,
    prefix: &str,
    last: bool,
    out: &mut String,
    label: &dyn Fn(&Route) -> String,
) {
    let r = &tree.routes[id];
    let _ = writeln!(
        out,
        "{prefix}{}{}",
        if last { "└── " } else { "├── " },
        label(r)
    );
    let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
    for (i, &c) in r.children.iter().enumerate() {
        render_node(
            tree,
            c,
            &child_prefix,
            i + 1 == r.children.len(),
            out,
            label,
        );
    }
}

/// The `amtool config routes test --tree` body: only the matching path, receivers on the
/// final nodes.
pub fn render_matching_tree(tree: &RouteTree, labels: &dyn LabelSource) -> String {
    let mut s = String::from(".\n");
    if tree.routes.is_empty() {
        return s;
    }
    render_matching(tree, 0, labels, "", true, &mut s);
    s
}

fn render_matching(
    tree: &RouteTree,
    id: RouteId,
    labels: &dyn LabelSource,
    prefix: &str,
    last: bool,
    out: &mut String,
) {
    let r = &tree.routes[id];
    let mut kids = Vec::new();
    for &c in &r.children {
        if tree.routes[c].matchers.matches(labels) {
            kids.push(c);
            if !tree.routes[c].continue_ {
                break;
            }
        }
    }
    let label = slug(r, false, kids.is_empty());
    let _ = writeln!(out, "{prefix}{}{label}", if last { "└── " } else { "├── " });
    let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
    for (i, &c) in kids.iter().enumerate() {
        render_matching(tree, c, labels, &child_prefix, i + 1 == kids.len(), out);
    }
}
