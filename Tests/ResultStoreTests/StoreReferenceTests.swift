import Dispatch
import Foundation
import ResultStore
import RiskPipeline
import TestSupport
import Testing

/// docs/STORE.md is what the store's declarations render; with BALLAST_REGENERATE_DOCS=1 the test rewrites it.
@Suite struct StoreReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theDocumentIsWhatTheDeclarationsRender() throws {
        let result = try RiskPipeline.run(RunOptions(bookDirectory: Self.root.appendingPathComponent("Data/sample"), threads: 2))
        let rendered = StoreReference.markdown(result)
        let document = Self.root.appendingPathComponent("docs/STORE.md")
        if ProcessInfo.processInfo.environment["BALLAST_REGENERATE_DOCS"] == "1" {
            try Data(rendered.utf8).write(to: document)
        }
        let written = try String(contentsOf: document, encoding: .utf8)
        #expect(written == rendered, "docs/STORE.md differs: BALLAST_REGENERATE_DOCS=1 swift test --filter StoreReferenceTests")
    }
}
