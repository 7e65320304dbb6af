import Foundation
import Omega

/// The interactive prompt. A minimal line-based loop for now: reads lines
/// until the input holds complete expressions, evaluates them, prints each
/// value as `=> value` and errors as `error: …`, and goes on.
struct Repl {
    let interp: Interpreter

    func run() -> Int32 {
        print("Omega \(OmegaVersion.string) — Ctrl-C interrupts, Ctrl-D exits")
        // Ctrl-C stops the running evaluation, not the REPL.
        signal(SIGINT, SIG_IGN)
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupts.setEventHandler { [interp] in interp.interrupt() }
        interrupts.resume()
        defer { interrupts.cancel() }
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
                interp.freshLine()
                if !v.isUnspecified { print("=> \(interp.writeString(v))") }
            } catch let e as OmegaError {
                interp.freshLine()
                if e.kind == .exit { return e.exitStatus }
                print(e.report)
            } catch {
                print("error: \(error)")
            }
        }
    }
}
