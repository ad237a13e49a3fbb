//! Runs the packed resolve (ops form, as the npm package calls it) in a loop, for profilers (callgrind):
//! `cargo run --release -p edgeprompt-npm --example profile_ops -- MANIFEST.json PACKED.txt [N]`.
use std::hint::black_box;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let manifest = std::fs::read_to_string(&args[1])?;
    let packed = std::fs::read_to_string(&args[2])?;
    let n: usize = args.get(3).map_or(Ok(100_000), |s| s.parse())?;
    let m = edgeprompt::manifest::compile(&manifest)?;
    let mut total = 0;
    let (mut ops, mut out) = (Vec::new(), String::new());
    for _ in 0..n {
        edgeprompt_npm::ops::resolve_packed_ops(
            black_box(&m),
            black_box(&packed),
            None,
            &mut ops,
            &mut out,
        );
        total += out.len();
    }
    println!("{total}");
    Ok(())
}
