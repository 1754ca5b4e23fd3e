// A shared library that is not a recfuse plugin: it exports no descriptor.
extern "C" int recfuse_test_not_a_plugin() { return 42; }
