import Foundation
@testable import Omega

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh interpreter whose output is captured.
final class Harness {
    var output = ""
    let interp: Interpreter

    init(stackLimit: Int? = nil, stepLimit: Int? = nil) throws {
        var options = Interpreter.Options()
        if let s = stackLimit { options.stackLimit = s }
        options.stepLimit = stepLimit
        var captured = ""
        options.output = .callback { captured += $0 }
        interp = try Interpreter(options: options)
        sink = { captured }
    }
    private var sink: () -> String = { "" }

    /// Evaluates and returns the result in write form.
    func eval(_ source: String) throws -> String {
        interp.writeString(try interp.evaluate(source))
    }

    /// Everything written so far.
    var printed: String {
        interp.flushOutput()
        return sink()
    }
}

/// Runs the built `omega` binary (next to the test bundle).
func runOmega(_ args: [String], stdin: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("omega")
    var exe = bin
    if !FileManager.default.fileExists(atPath: exe.path) {
        exe = packageRoot.appendingPathComponent(".build/debug/omega")
    }
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let s = stdin { inp.fileHandleForWriting.write(s.data(using: .utf8)!) }
    try inp.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
