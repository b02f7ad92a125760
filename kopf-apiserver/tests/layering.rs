//! The shape of kopf-apiserver's source: no file imports a file that imports it back.

use kopf_test_support::layering::{cycles, graph};
use std::path::Path;

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let edges = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let cycles = cycles(&edges);
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
    assert!(
        edges.len() > 20,
        "the graph was read: {} files",
        edges.len()
    );
}
