#pragma once
/// @file config_loader.h
/// The generic configuration layer: reading pipeline files with `extends` inheritance and
/// `--set` overrides (pipeline_file.h), and validating tables against plugin parameter schemas
/// (schema.h). The include for code that needs both.

#include "config/pipeline_file.h"
#include "config/schema.h"
