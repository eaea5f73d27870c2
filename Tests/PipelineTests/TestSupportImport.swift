// Every file of this test target uses the shared CLI harness and CSV reader.
@_exported import TestSupport
