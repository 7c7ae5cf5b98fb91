// Umbrella header of the event pipeline.
#pragma once
