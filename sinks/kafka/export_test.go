package kafkasink

// ProduceRequests returns how many produce requests s sent since the last call (its writer's
// Stats, which start again from zero after each).
func ProduceRequests(s *Sink) int64 { return s.writer.Stats().Writes }
