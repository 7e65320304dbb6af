import Foundation
import Omega

/// The interactive prompt. A minimal line-based loop for now: reads lines
/// until the input holds complete expressions, evaluates them, prints each
/// value as `=> value` and errors as `error: …`, and goes on.
struct Repl {
    let interp: Interpreter

    func run() -> Int32 {
        print("Omega \(OmegaVersion.string) — Ctrl-D to exit")
        var pending = ""
        while true {
            FileHandle.standardOutput.write((pending.isEmpty ? "Ω> " : "… ").data(using: .utf8) ?? Data())
            guard let line = readLine(strippingNewline: false) else {
                print("")
                return 0
            }
            pending += line
            if interp.needsMoreInput(pending) { continue }
            let source = pending
            pending = ""
            do {
                let v = try interp.evaluate(source, sourceName: "<repl>")
                interp.flushOutput()
                if !v.isUnspecified { print("=> \(interp.writeString(v))") }
            } catch let e as OmegaError {
                interp.flushOutput()
                if e.kind == .exit { return e.exitStatus }
                print(e.report)
            } catch {
                print("error: \(error)")
            }
        }
    }
}
