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
        // Checked before exit unwinds anything: a refused exit is an error where it was called.
        i.define("%may-exit") { i in
            try i.require(.exit, "exit")
            return .unspecified
        }
        i.define("%exit") { i, v in
            try i.require(.exit, "exit")
            var status: Int32 = 0
            if v.isFixnum { status = Int32(truncatingIfNeeded: v.fixnum) } else if v.isFalse { status = 1 }
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
