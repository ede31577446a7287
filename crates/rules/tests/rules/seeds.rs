use crate::common::shared_dir;

/// Rule snippets in the seed documents: fenced YAML blocks with `alert:`/`record:`.
fn seed_rule_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_yaml = false;
    let mut block = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if !in_yaml && t.starts_with("```yaml") {
            in_yaml = true;
            block.clear();
        } else if in_yaml && t.starts_with("```") {
            in_yaml = false;
            if block.contains("alert:") || block.contains("record:") || block.contains("groups:") {
                out.push(block.clone());
            }
        } else if in_yaml {
            block.push_str(line);
            block.push('\n');
        }
    }
    out
}

#[test]
fn seed_rules_load_unchanged() {
    let Some(shared) = shared_dir() else { return };
    let mut blocks = 0;
    for entry in std::fs::read_dir(shared.join("seeds")).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for b in seed_rule_blocks(&text) {
            blocks += 1;
            // A bare rule is wrapped into a group, indented as a list item.
            let yaml = if b.contains("groups:") {
                b
            } else {
                let mut y = String::from("groups:\n  - name: seed\n    rules:\n");
                for (i, l) in b.lines().enumerate() {
                    y.push_str(if i == 0 { "      - " } else { "        " });
                    y.push_str(l);
                    y.push('\n');
                }
                y
            };
            let groups = watchfire_rules::parse_rules(&path.display().to_string(), &yaml)
                .unwrap_or_else(|e| panic!("{}: {e:?}\n{yaml}", path.display()));
            assert_eq!(groups[0].rules.len(), 1);
        }
    }
    assert!(blocks >= 10, "found {blocks} rule blocks in the seeds");
}
