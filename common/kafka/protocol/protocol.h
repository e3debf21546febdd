#pragma once
// The Kafka protocol codec in one include: framing, headers, every described message, error codes.
// See schema.h for how a message is described and codec.h for what is derived from a description.
#include "common/kafka/protocol/api.h"
#include "common/kafka/protocol/codec.h"
#include "common/kafka/protocol/errc.h"
#include "common/kafka/protocol/error_code.h"
#include "common/kafka/protocol/frame.h"
#include "common/kafka/protocol/messages.h"
#include "common/kafka/protocol/request.h"
#include "common/kafka/protocol/response.h"
