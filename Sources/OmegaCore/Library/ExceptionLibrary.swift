/// The machine-level pieces of continuations, dynamic-wind and exceptions.
/// `call/cc`, `dynamic-wind`, `raise`, `with-exception-handler` and `guard`
/// themselves are written in Scheme on top of these (stdlib/10-control.scm).
enum ExceptionLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.definePrimitive("%call/cc", 1, 1, .control(.callcc))
        i.define("%current-handlers") { i in i.vm.handlers }
        i.define("%set-handlers!") { i, h in i.vm.handlers = h; return .unspecified }
        i.define("%current-winders") { i in i.vm.winders }
        i.define("%set-winders!") { i, w in i.vm.winders = w; return .unspecified }
        i.define("%uncaught") { i, obj in throw i.uncaughtRaise(obj) }
        i.define("raise") { _, obj in
            var e = SchemeError(.raise, "raise")
            e.payload = obj
            throw e
        }
        i.define("raise-continuable") { _, obj in
            var e = SchemeError(.raiseContinuable, "raise-continuable")
            e.payload = obj
            throw e
        }
        // Checked before exit unwinds anything: a refused exit, or a status
        // that is not one, is an error where exit was called.
        i.define("%may-exit") { i, v in
            try i.require(.exit, "exit")
            _ = try exitStatus(v)
            return .unspecified
        }
        i.define("%exit") { i, v in
            try i.require(.exit, "exit")
            let status = try exitStatus(v)
            var e = SchemeError(.exit, "exit with status \(status)")
            e.exitStatus = status
            throw e
        }
        i.define("error-object?") { _, x in Value(x.isObject(of: .errorObject)) }
        i.define("error-object-message") { i, x in
            guard let e = x.as(ErrorObject.self) else { throw SchemeError.wrongType(x, expected: "an error object") }
            return i.makeString(e.message)
        }
        i.define("error-object-irritants") { i, x in
            guard let e = x.as(ErrorObject.self) else { throw SchemeError.wrongType(x, expected: "an error object") }
            return i.list(e.irritants)
        }
        i.define("read-error?") { _, x in Value(x.as(ErrorObject.self)?.errorKind == .read) }
        i.define("file-error?") { _, x in Value(x.as(ErrorObject.self)?.errorKind == .file) }
    }
}

/// The process status `exit` means by `v`. A status is a byte: anything
/// else would wrap (256 → 0, "success"), so it is refused.
private func exitStatus(_ v: Value) throws -> Int32 {
    if v.isFixnum, (0...255).contains(v.fixnum) { return Int32(v.fixnum) }
    if v.raw == Value.true.raw { return 0 }
    if v.isFalse { return 1 }
    var e = SchemeError.wrongType(v, expected: "#t, #f or an exit status from 0 to 255")
    e.procedure = "exit"
    throw e
}
