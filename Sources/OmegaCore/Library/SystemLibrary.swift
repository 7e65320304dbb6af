import Foundation

/// Time, exit, load and the command line (R7RS 6.14).
enum SystemLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("current-second") { i in
            try i.require(.clock, "current-second")
            return i.heap.flonum(Date().timeIntervalSince1970)
        }
        i.define("current-jiffy") { i in
            try i.require(.clock, "current-jiffy")
            return i.heap.integer(Int(DispatchTime.now().uptimeNanoseconds / 1000))
        }
        i.define("jiffies-per-second") { _ in Value(fixnum: 1_000_000) }
        i.define("load", min: 1, max: 2) { i, args in
            try i.require(.load, "load")
            try i.require(.fileRead, "load")
            let path = try Check.string(args[0]).string
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw SchemeError(.file, "cannot read \(path): \(Interpreter.describeFileError(error))")
            }
            return try i.evaluateWithoutReporting(text, sourceName: path)
        }
        i.define("command-line") { i in i.list(i.commandLine.map { i.makeString($0) }) }
        i.define("get-environment-variable") { i, name in
            try i.require(.environment, "get-environment-variable")
            let key = try Check.string(name).string
            guard let v = ProcessInfo.processInfo.environment[key] else { return .false }
            return i.makeString(v)
        }
        i.define("get-environment-variables") { i in
            try i.require(.environment, "get-environment-variables")
            let pairs = ProcessInfo.processInfo.environment.sorted { $0.key < $1.key }
            return i.list(pairs.map { i.cons(i.makeString($0.key), i.makeString($0.value)) })
        }
        i.define("collect-garbage") { i in
            i.collectGarbage()
            return .unspecified
        }
    }
}

extension Interpreter {
    /// Like `evaluate`, but lets Scheme errors through unrendered (for
    /// `load`, whose errors belong to the enclosing evaluation).
    func evaluateWithoutReporting(_ source: String, sourceName: String) throws -> Value {
        var reader = Reader(source, fileID: sourceFiles.id(for: sourceName), interp: self)
        var result = Value.unspecified
        while let form = try reader.read() { result = try eval(form) }
        return result
    }
}
