// Catch2 v2 main, in a translation unit of its own so the tests rebuild quickly.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
